// errors.js — MezzoError, the one error type of mezzo's JS API, and the
// conversion of whatever a runtime or a browser API throws into one.
import { Code } from './names.js';

/** MezzoError is every failure: a stable code, plain-words description, HTTP status when there was one. */
export class MezzoError extends Error {
  constructor(code, description, status) {
    super(description ? `${code}: ${description}` : code);
    this.name = 'MezzoError';
    this.code = code;
    this.description = description || '';
    if (status !== undefined) this.status = status;
  }
}

/** toMezzoError turns whatever was thrown or rejected into a MezzoError; it changes nothing else. */
export function toMezzoError(e) {
  if (e instanceof MezzoError) return e;
  if (e && typeof e === 'object' && typeof e.code === 'string' && !(e instanceof Error)) {
    return new MezzoError(e.code, e.description, e.status); // the Go runtime's plain objects
  }
  if (e instanceof Error && /Go program has already exited/.test(e.message)) {
    // start() forgot the runtime when it exited; the next createClient starts afresh.
    return new MezzoError(Code.RuntimeExited, 'the mezzo module stopped; create a new client');
  }
  return new MezzoError(Code.InternalError, e instanceof Error ? e.message : String(e));
}

/** closedError is the error of every call on a client (or RPC client) after its close(). */
export function closedError() {
  return new MezzoError(Code.ClientClosed, 'this client was closed; create a new one');
}
