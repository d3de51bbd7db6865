import type { Response } from 'express';

/**
 * Answers 200 with the envelope around data that is JSON text already (made by a statement, for
 * answers of many rows): written as it is, not parsed into objects and serialized again. The
 * caller guarantees the text is JSON of the documented shape.
 */
export function sendDataJson(res: Response, dataJson: string): void {
  res.type('application/json').send(`{"success":true,"data":${dataJson}}`);
}
