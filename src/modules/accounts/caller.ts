import type { UserRole } from '../../models/enums';

/** Who makes a request that acts on orders and payments. */
export interface Caller {
  id: string;
  role: UserRole;
}
