/**
 * The control API's console: the history of the requests it sent and the
 * requests saved under a name, both kept in the project's data folder. Part
 * of ControlApi (../contract.ts); the schemas parse what crosses a bridge.
 */
import { z } from "zod";
import { httpRequest, none, type HttpRequestSpec } from "./common.ts";

/** A name the user gives a saved request: trimmed, not empty. */
const savedName = z
  .string()
  .trim()
  .min(1, "a name")
  .max(200)
  .refine((n) => ![...n].some((c) => c.charCodeAt(0) < 0x20), {
    message: "a name without control characters",
  });
const savedId = z.uuid("a saved request's id as savedRequests gives it");

export const consoleSchemas = {
  historyEntry: z
    .object({
      time: z.number().int().min(0),
      request: httpRequest,
      status: z.number().int().min(0).max(999),
      durationMs: z.number().min(0),
    })
    .strict(),
  /** Saves under `name`; a request already saved under that name is replaced. */
  save: z.object({ name: savedName, request: httpRequest }).strict(),
  rename: z.object({ id: savedId, name: savedName }).strict(),
  savedId,
} as const;

export type HistoryEntryInput = z.infer<typeof consoleSchemas.historyEntry>;
export type SaveRequestSpec = z.infer<typeof consoleSchemas.save>;
export type RenameSavedRequestSpec = z.infer<typeof consoleSchemas.rename>;

/** One request the console sent, as kept in the project's data folder. */
export interface HistoryEntry extends HistoryEntryInput {
  id: string;
}

/** A request the user saved in the console under a name, kept in the project's data folder. */
export interface SavedRequest {
  id: string;
  name: string;
  request: HttpRequestSpec;
  savedAt: number;
}

export interface ConsoleControlApi {
  /** The console's request history, newest first (kept in the data folder). */
  requestHistory(): Promise<HistoryEntry[]>;
  addRequestHistory(entry: HistoryEntryInput): Promise<HistoryEntry>;
  clearRequestHistory(): Promise<void>;
  /** The console's saved requests, by name (kept in the data folder). */
  savedRequests(): Promise<SavedRequest[]>;
  /** Saves a request under a name; one saved under that name already is replaced. */
  saveRequest(spec: SaveRequestSpec): Promise<SavedRequest>;
  /** Renames a saved request; refused when another one has that name. */
  renameSavedRequest(spec: RenameSavedRequestSpec): Promise<SavedRequest>;
  /** False when no saved request has that id. */
  deleteSavedRequest(id: string): Promise<boolean>;
}

export const consoleCallSchemas = {
  requestHistory: none,
  addRequestHistory: z.tuple([consoleSchemas.historyEntry]),
  clearRequestHistory: none,
  savedRequests: none,
  saveRequest: z.tuple([consoleSchemas.save]),
  renameSavedRequest: z.tuple([consoleSchemas.rename]),
  deleteSavedRequest: z.tuple([consoleSchemas.savedId]),
} as const;
