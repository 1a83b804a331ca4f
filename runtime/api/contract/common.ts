/**
 * The small schemas several parts of the control API's contract share: an
 * object's id, a JavaScript identifier, a binding's name, one SQL statement
 * with its parameters.
 */
import { z } from "zod";

export const objectId = z.string().regex(/^[0-9a-f]{64}$/, "an object id is 64 lower-case hex digits");

export const identifier = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a JavaScript identifier");

export const bindingName = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a binding name");

/** A statement from one of the Inspector's SQL boxes, and its parameters. */
export const sqlStatement = {
  sql: z.string().min(1).max(100_000),
  params: z
    .array(z.union([z.string(), z.number(), z.null()]))
    .max(1000)
    .optional(),
};

/** An HTTP request as the console sends it (also kept in its history and saved requests). */
export const httpRequest = z
  .object({
    method: z.string().regex(/^[A-Z]+$/, "an HTTP method in capitals"),
    path: z.string().startsWith("/").max(8192),
    headers: z
      .array(z.tuple([z.string().max(1024), z.string().max(16_384)]))
      .max(200)
      .optional(),
    body: z
      .string()
      .max(10 * 1024 * 1024)
      .optional(),
  })
  .strict();

export type HttpRequestSpec = z.infer<typeof httpRequest>;

export const none = z.tuple([]);
