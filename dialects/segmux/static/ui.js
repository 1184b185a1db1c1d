// The segmux portability page. Plain script, no build step, no third-party code: it reads
// segments (with every dialect's rendering) and evaluates contexts through /segmux/v1 with the
// token the user typed. Everything from the API reaches the DOM through textContent or
// dataset, never as HTML, so a segment named "<img onerror=…>" is shown, not run.
"use strict";

(() => {
  const TOKEN_KEY = "segmux.token";
  const PAGE_SIZE = 100;
  // The matrix's columns, as the server wrote them into the page from its registry of API
  // surfaces: each header names its dialect and says whether the segment is only a name there.
  const COLUMNS = Array.from(document.querySelectorAll("#matrix th[data-dialect]"));
  const DIALECTS = COLUMNS.map((th) => th.dataset.dialect);
  const NAME_ONLY = new Set(
    COLUMNS.filter((th) => th.dataset.nameOnly === "true").map((th) => th.dataset.dialect));
  // Relative to the page (/segmux/ui/), so the page also works behind a path prefix.
  const API = new URL("../v1/", document.baseURI);

  const $ = (id) => document.getElementById(id);
  const state = { segments: new Map(), next: null, q: "" };

  class ApiError extends Error {
    constructor(status, statusText, body) {
      super(`${status} ${statusText}`);
      this.status = status;
      this.statusText = statusText;
      this.body = body;
    }
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

  async function api(method, path, body) {
    // The token goes in a header only: never in a URL, where logs and history would keep it.
    const headers = { Accept: "application/json", Authorization: `Bearer ${token()}` };
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(new URL(path, API), init);
    } catch (err) {
      throw new Error(`could not reach segmux (${err.message})`);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      throw new ApiError(response.status, response.statusText, data);
    }
    return data;
  }

  // One line a person can act on: "400 invalid: <reason> (field context)".
  function describe(err) {
    if (!(err instanceof ApiError)) {
      return String(err && err.message ? err.message : err);
    }
    const body = err.body && typeof err.body === "object" ? err.body : {};
    let text = `${err.status} ${body.error ? String(body.error) : err.statusText}`;
    if (body.reason !== undefined) text += `: ${String(body.reason)}`;
    if (body.field) text += ` (field ${String(body.field)})`;
    if (typeof body.position === "number") text += ` at position ${body.position}`;
    if (err.status === 401) text += " — check the API token";
    return text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  // What to show for one expressible rendering: the exact form (code) and, where the form
  // alone would puzzle a reader (null, an empty list), a short note saying what it means.
  function shown(dialect, segment, rendering) {
    const form = rendering.expression;
    if (NAME_ONLY.has(dialect)) {
      // No condition language (v2.3): the segment is its name there (the column says so).
      return { code: segment.name, note: null };
    }
    if (form === null || form === undefined) {
      if (segment.kind === "static") return { code: null, note: "static: its member list" };
      return { code: null, note: "no condition: matches everyone" };
    }
    if (typeof form === "string") return { code: form, note: null };
    const note = Array.isArray(form) && form.length === 0
      ? "no constraints: matches everyone" : null;
    return { code: JSON.stringify(form, null, 2), note };
  }

  function dialectCell(dialect, segment) {
    const rendering = (segment.renderings || {})[dialect];
    const cell = el("td");
    cell.dataset.dialect = dialect;
    if (!rendering) {
      cell.className = "no";
      cell.append(el("span", "badge", "no rendering"));
      return cell;
    }
    if (!rendering.expressible) {
      cell.className = "no";
      cell.append(el("span", "badge", "not expressible"),
        el("p", "reason", rendering.reason));
      return cell;
    }
    cell.className = "ok";
    const { code, note } = shown(dialect, segment, rendering);
    if (code !== null) {
      const pre = el("pre", "rendering");
      pre.append(el("code", null, code));
      cell.append(pre);
    }
    if (note) cell.append(el("p", "note", note));
    const meta = el("p", "meta");
    meta.append(el("span", null, "id "), el("code", null, rendering.id),
      el("span", null, " · "), el("code", null, rendering.url));
    cell.append(meta);
    return cell;
  }

  // Confidence's lifecycle: an ARCHIVED segment serves no one (nor does an UNALLOCATED one
  // until it is allocated), and one allocated to a proportion of units needs a unit to match.
  const STATE_NOTES = {
    ARCHIVED: "archived: serves no one",
    UNALLOCATED: "unallocated: serves no one until allocated",
  };

  function allocationNote(segment) {
    const proportion = segment.allocation ? Number(segment.allocation.proportion) : 1;
    return proportion < 1 ? `${segment.allocation.proportion} of units (needs a unit)` : null;
  }

  function segmentRow(segment) {
    const row = el("tr");
    row.dataset.segmentId = segment.id;
    const state = typeof segment.state === "string" ? segment.state : "OK";
    row.dataset.state = state;
    if (state === "ARCHIVED") row.classList.add("archived");
    const head = el("th");
    head.scope = "row";
    head.append(el("span", "name", segment.name), el("span", `kind ${segment.kind}`,
      segment.kind));
    if (STATE_NOTES[state]) {
      const badge = el("span", `state ${state.toLowerCase()}`, state.toLowerCase());
      badge.title = STATE_NOTES[state];
      head.append(badge);
    }
    const share = allocationNote(segment);
    if (share) head.append(el("p", "allocation", share));
    if (segment.description) head.append(el("p", "description", segment.description));
    const id = el("p", "meta");
    id.append(el("code", null, segment.id), el("span", null, ` · v${segment.version}`));
    head.append(id);
    row.append(head);
    for (const dialect of DIALECTS) row.append(dialectCell(dialect, segment));
    row.append(el("td", "eval", "—"));
    return row;
  }

  function setBusy(busy) {
    for (const id of ["connect", "more", "run"]) $(id).disabled = busy;
    $("segments").setAttribute("aria-busy", String(busy));
  }

  function clearSegments() {
    state.segments.clear();
    state.next = null;
    $("rows").replaceChildren();
    $("more").hidden = true;
    $("count").textContent = "";
  }

  async function loadSegments(reset) {
    if (reset) clearSegments();
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state.q) params.set("q", state.q);
    if (!reset && state.next) params.set("cursor", state.next);
    setBusy(true);
    setStatus("Loading segments…");
    try {
      const page = await api("GET", `segments?${params}`);
      const rows = $("rows");
      for (const segment of page.items) {
        state.segments.set(segment.id, segment);
        rows.append(segmentRow(segment));
      }
      state.next = page.next;
      const n = state.segments.size;
      if (n === 0) {
        const empty = el("td", "empty", state.q
          ? "No segment's name contains that text." : "This tenant has no segments yet.");
        empty.colSpan = DIALECTS.length + 2;
        const row = el("tr");
        row.append(empty);
        rows.append(row);
      }
      $("more").hidden = !state.next;
      $("count").textContent = `${n} segment${n === 1 ? "" : "s"} shown`
        + (state.next ? " — more available" : "");
      setStatus(`Loaded ${n} segment${n === 1 ? "" : "s"}.`);
    } catch (err) {
      setStatus(`Could not list segments: ${describe(err)}`, true);
    } finally {
      setBusy(false);
    }
  }

  function showEvalError(text) {
    $("eval-result").hidden = true;
    const box = $("eval-error");
    box.textContent = text;
    box.hidden = false;
  }

  function showResults(out) {
    $("eval-error").hidden = true;
    const results = out.results || {};
    const reasons = out.reasons || {};
    const verdict = (id) => (results[id] ? "match"
      : reasons[id] ? `no match (${reasons[id]})` : "no match");
    const ids = Object.keys(results);
    // Segments in the matrix's order first, then any the matrix has not loaded yet.
    const order = [...state.segments.keys()];
    const rank = (id) => (order.includes(id) ? order.indexOf(id) : order.length);
    ids.sort((a, b) => rank(a) - rank(b));
    $("eval-summary").textContent =
      `${out.matches.length} of ${ids.length} segment${ids.length === 1 ? "" : "s"} match.`;
    const rows = ids.map((id) => {
      const row = el("tr");
      row.dataset.segmentId = id;
      const known = state.segments.get(id);
      const name = el("th");
      name.scope = "row";
      name.append(el("span", "name", known ? known.name : id));
      if (known) name.append(el("code", "meta", ` ${id}`));
      row.append(name, el("td", results[id] ? "match" : "miss", verdict(id)));
      return row;
    });
    $("result-rows").replaceChildren(...rows);
    for (const row of $("rows").children) {
      const id = row.dataset.segmentId;
      const cell = row.querySelector("td.eval");
      if (!id || !cell) continue;
      const value = results[id];
      cell.textContent = value === undefined ? "—" : verdict(id);
      cell.classList.toggle("match", value === true);
      cell.classList.toggle("miss", value === false);
    }
    $("eval-result").hidden = false;
  }

  async function evaluate() {
    let context;
    try {
      context = JSON.parse($("context").value);
    } catch (err) {
      showEvalError(`The context is not valid JSON: ${err.message}`);
      return;
    }
    // Anything that parses is sent as is: the API says what a context must be.
    const body = { context };
    const unit = $("unit").value.trim();
    if (unit) body.unit = unit;
    setBusy(true);
    try {
      showResults(await api("POST", "evaluate", body));
    } catch (err) {
      showEvalError(`Evaluation failed: ${describe(err)}`);
    } finally {
      setBusy(false);
    }
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) {
      setStatus("Enter an API token first.", true);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    loadSegments(true);
  });

  $("forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $("token").value = "";
    clearSegments();
    $("eval-result").hidden = true;
    $("eval-error").hidden = true;
    setStatus("Token forgotten. Enter an API token to list this tenant's segments.");
  });

  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = $("q").value.trim();
    if (token()) loadSegments(true);
  });

  $("more").addEventListener("click", () => loadSegments(false));

  $("evaluate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    evaluate();
  });

  if (token()) {
    $("token").value = token();
    loadSegments(true);
  }
})();
