import type { NavetErrorCode } from '../codes/error-codes';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { operationOutcome } from '../fhir/operation-outcome';

/**
 * Navet's HTTP server. Requests whose head is too large get a real answer (431, with an
 * OperationOutcome) instead of a reset connection; URLs longer than MAX_URL_LENGTH get 414 from the app.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

function answerAndClose(socket: Socket, status: number, reason: string, navetCode: NavetErrorCode, text: string): void {
  if (!socket.writable) return;
  const body = JSON.stringify(operationOutcome([{ severity: 'error', code: 'too-costly', navetCode, text }]));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/fhir+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createHttpServer(handler?: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      answerAndClose(
        socket,
        431,
        'Request Header Fields Too Large',
        'NAVET-HEADERS-TOO-LARGE',
        `The request line and headers together are larger than ${MAX_HEADER_BYTES} bytes; send shorter headers (or a search as POST _search with a form body)`,
      );
    } else if (error.code !== 'ECONNRESET') {
      answerAndClose(socket, 400, 'Bad Request', 'NAVET-BAD-HTTP', 'The request is not valid HTTP/1.1');
    } else socket.destroy();
  });
  return server;
}
