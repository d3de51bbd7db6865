import { Op, type Optional } from 'sequelize';
import { Column, DataType, Table } from 'sequelize-typescript';
import { AppModel } from './app-model';

/**
 * A side effect (a job: a mail, a restock alert…) recorded in the same transaction as the change
 * it follows. It exists only if that transaction committed; the relay (src/platform/jobs/outbox.ts) moves
 * it to the job queue once it is due and marks it sent. Without Redis the job runs in the memory
 * of the process that leased the row, and the row is marked sent (or dead) once it has run.
 */
export interface OutboxMessageAttributes {
  id: string;
  /** A JobType. */
  type: string;
  payload: unknown;
  /** A stable job id given by the caller (e.g. one low-stock alert per product); else the row id is the job id. */
  jobId: string | null;
  /** Not relayed before this time (a delayed job). */
  availableAt: Date;
  sentAt: Date | null;
  /** Failed relay attempts (the queue was unreachable). */
  attempts: number;
  lastError: string | null;
  /** Held until then by the process whose memory its job waits or runs in; due again after it. */
  lockedUntil: Date | null;
  /** Runs of the job that failed, in-process (so a job taken up again after a restart keeps its count). */
  failedRuns: number;
  /** The job failed its last attempt in-process: kept, with its payload, for a person to look at. */
  deadAt: Date | null;
  createdAt: Date;
}

export type OutboxMessageCreationAttributes = Optional<
  OutboxMessageAttributes,
  'id' | 'jobId' | 'availableAt' | 'sentAt' | 'attempts' | 'lastError' | 'lockedUntil' | 'failedRuns' | 'deadAt' | 'createdAt'
>;

@Table({
  tableName: 'outbox',
  underscored: true,
  timestamps: true,
  updatedAt: false,
  indexes: [
    { name: 'outbox_unsent_available_at_idx', fields: ['available_at'], where: { sent_at: null } },
    { name: 'outbox_sent_at_idx', fields: ['sent_at'], where: { sent_at: { [Op.ne]: null } } },
    { name: 'outbox_dead_at_idx', fields: ['dead_at'], where: { dead_at: { [Op.ne]: null } } },
  ],
})
export class OutboxMessage
  extends AppModel<OutboxMessageAttributes, OutboxMessageCreationAttributes>
  implements OutboxMessageAttributes
{
  @Column({ type: DataType.UUID, primaryKey: true, defaultValue: DataType.UUIDV4 })
  override id!: string;

  @Column({ type: DataType.STRING(100), allowNull: false })
  type!: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  payload!: unknown;

  @Column({ type: DataType.STRING(255), allowNull: true })
  jobId!: string | null;

  @Column({ type: DataType.DATE, allowNull: false, defaultValue: DataType.NOW })
  availableAt!: Date;

  @Column({ type: DataType.DATE, allowNull: true })
  sentAt!: Date | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  attempts!: number;

  @Column({ type: DataType.TEXT, allowNull: true })
  lastError!: string | null;

  @Column({ type: DataType.DATE, allowNull: true })
  lockedUntil!: Date | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  failedRuns!: number;

  @Column({ type: DataType.DATE, allowNull: true })
  deadAt!: Date | null;

  override createdAt!: Date;
}
