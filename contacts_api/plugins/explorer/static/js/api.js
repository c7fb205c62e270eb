// The API client: the v2 sign-in and every JSON call the page makes.
//
// Tokens live in this module's variables only (never localStorage or
// sessionStorage): they last as long as the tab, and a reload signs out.
// The access token is refreshed before it expires; refresh tokens rotate,
// so only one refresh runs at a time.

const REFRESH_MARGIN = 0.8; // refresh at 80% of the access token's lifetime

let session = null; // {access, refresh, user, timer}
let refreshing = null; // the refresh in flight, shared by concurrent callers
const listeners = new Set();

/** An API error answer (the JSON error shape), or a network failure. */
export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.code = body && body.error_code;
    this.body = body;
  }
}

function describe(status, body) {
  if (!body || typeof body !== "object") {
    return status ? `The server answered ${status}.` : "The server cannot be reached.";
  }
  const problems = (body.errors || []).map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`);
  const detail = body.detail || `The server answered ${status}.`;
  return problems.length > 1 ? `${detail} (${problems.join("; ")})` : detail;
}

/** Called with the user (signed in) or null (signed out, or the session ended). */
export function onSessionChange(listener) {
  listeners.add(listener);
}

function announce(reason) {
  for (const listener of listeners) listener(session ? session.user : null, reason);
}

export function currentUser() {
  return session ? session.user : null;
}

function start(answer) {
  if (session) clearTimeout(session.timer);
  const lifetime = Math.max(Number(answer.expires_in) || 60, 10);
  session = {
    access: answer.access_token,
    refresh: answer.refresh_token,
    user: answer.user,
    timer: setTimeout(() => refresh().catch(() => {}), lifetime * REFRESH_MARGIN * 1000),
  };
}

async function readBody(response) {
  const type = response.headers.get("Content-Type") || "";
  if (response.status === 204 || !type.includes("json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function post(path, body, headers = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null);
  }
  const answer = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

export async function signIn(email, password) {
  start(await post("/api/v2/auth/login", { email, password }));
  announce("signed-in");
  return session.user;
}

function end(reason) {
  if (!session) return;
  clearTimeout(session.timer);
  session = null;
  announce(reason);
}

export async function signOut() {
  if (!session) return;
  const { access, refresh: token } = session;
  end("signed-out"); // forget the tokens first: nothing may use them any more
  try {
    await post("/api/v2/auth/logout", { refresh_token: token }, { Authorization: `Bearer ${access}` });
  } catch {
    // The tokens are gone from this tab either way; the refresh token expires by itself.
  }
}

/** Rotate the tokens; on refusal the session ends. */
export function refresh() {
  if (!session) return Promise.reject(new ApiError(401, null));
  if (!refreshing) {
    const token = session.refresh;
    refreshing = post("/api/v2/auth/refresh", { refresh_token: token })
      .then((answer) => {
        if (session && session.refresh === token) start(answer);
      })
      .catch((error) => {
        if (error.status === 401 || error.status === 403) end("expired");
        throw error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/** Headers of an authenticated request (the bearer token, plus `extra`). */
export function authHeaders(extra = {}) {
  return session ? { Authorization: `Bearer ${session.access}`, ...extra } : { ...extra };
}

/**
 * fetch() with the bearer token; a refused (expired) token is refreshed once
 * and the request sent again. Answers the Response; throws ApiError for an
 * error answer unless `raw` is set.
 */
export async function call(path, { method = "GET", json, body, headers = {}, signal, raw = false } = {}) {
  const send = () => {
    const all = authHeaders({ Accept: "application/json", ...headers });
    if (json !== undefined) all["Content-Type"] = "application/json";
    return fetch(path, {
      method,
      headers: all,
      body: json !== undefined ? JSON.stringify(json) : body,
      signal,
    });
  };
  let response;
  try {
    response = await send();
    if (response.status === 401 && session) {
      await refresh();
      response = await send();
    }
  } catch (error) {
    if (error instanceof ApiError || error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  if (raw || response.ok) return response;
  throw new ApiError(response.status, await readBody(response));
}

/** call() and its JSON answer. */
export async function getJson(path, options) {
  const response = await call(path, options);
  return readBody(response);
}
