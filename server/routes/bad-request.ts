import type { Response } from 'express';
import type { z } from 'zod';

/** 400 with every problem of a request body, each naming its field. */
export function badRequest(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
}
