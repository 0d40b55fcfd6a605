import express from 'express';
import { FhirError } from '../fhir/operation-outcome';

/**
 * The one JSON body parser of Navet: express.json with a nesting limit checked on the raw bytes
 * before anything parses or walks the body, so no recursive walk (validation, FHIRPath, cloning)
 * can overflow the stack. FHIR resources nest far less deeply than this.
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of objects and arrays in JSON text (strings skipped); stops counting past `limit`. */
export function jsonDepth(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) depth--;
  }
  return deepest;
}

export function tooDeep(): FhirError {
  return new FhirError(400, [
    {
      severity: 'error',
      code: 'too-costly',
      navetCode: 'NAVET-JSON-TOO-DEEP',
      text: `The JSON body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; Navet accepts at most ${MAX_JSON_DEPTH}`,
    },
  ]);
}

export function jsonBody(options: { limit: string; type?: string | string[] }): ReturnType<typeof express.json> {
  return express.json({
    limit: options.limit,
    ...(options.type ? { type: options.type } : {}),
    verify: (_req, _res, buffer) => {
      if (jsonDepth(buffer, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw tooDeep();
    },
  });
}
