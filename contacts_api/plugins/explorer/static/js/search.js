// The search: its state lives in the page's URL (bookmark and share a search),
// the results come from GET /api/v2/contacts/ (or POST /api/v2/apollo/contacts
// for a pasted Apollo URL), the count from the count routes.

import { getJson } from "./api.js";
import { $, clear, el, formatNumber, fullName, place, plural, show } from "./dom.js";

const LIMIT = 25;
const PAGE_KEYS = new Set(["ordering", "cursor", "apollo_url"]);
const RANGE_FILTERS = new Set(["employees_range"]); // values that keep their commas

let generation = 0; // answers to an older search are dropped
const counts = new Map(); // filters -> count, so paging does not count again
let pageNumber = 1;
let page = { next: null, previous: null };
let onRowOpen = () => {};
let onReport = () => {};

/** The search the page's URL describes. */
export function currentSearch() {
  const query = new URLSearchParams(location.search);
  const filters = new URLSearchParams();
  for (const [name, value] of query) if (!PAGE_KEYS.has(name) && value.trim()) filters.append(name, value);
  return {
    apolloUrl: query.get("apollo_url"),
    filters,
    ordering: query.get("ordering") || "",
    cursor: query.get("cursor") || "",
  };
}

/** A search's filters as the export body wants them: lists of single values
 *  (a query string's comma lists are split the way the server splits them). */
export function filtersObject(filters) {
  const object = {};
  for (const [name, value] of filters) {
    const parts = RANGE_FILTERS.has(name) ? [value] : value.split(",");
    for (const part of parts.map((p) => p.trim()).filter(Boolean)) (object[name] ||= []).push(part);
  }
  return object;
}

function pageUrl({ apolloUrl, filters, ordering, cursor }) {
  const query = apolloUrl ? new URLSearchParams({ apollo_url: apolloUrl }) : new URLSearchParams(filters);
  if (ordering && !apolloUrl) query.set("ordering", ordering);
  if (cursor) query.set("cursor", cursor);
  const text = query.toString();
  return `${location.pathname}${text ? `?${text}` : ""}`;
}

/** Go to a search: the URL changes (a history entry), then the results. */
export function navigate(search, { replace = false } = {}) {
  const url = pageUrl(search);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  return load();
}

export function configure({ openRow, report }) {
  onRowOpen = openRow;
  onReport = report;
}

// -- the form ---------------------------------------------------------------

/** Put a search's filters in the form; the ones it has no field for become chips. */
export function fillForm(form, filters) {
  const fields = new Set([...form.elements].map((field) => field.name).filter(Boolean));
  for (const field of form.elements) if (field.name) field.value = "";
  const others = [];
  for (const name of new Set(filters.keys())) {
    const values = filters.getAll(name);
    if (fields.has(name) && (values.length === 1 || !RANGE_FILTERS.has(name))) {
      form.elements[name].value = values.join(", ");
      if (form.elements[name].value !== values.join(", ")) others.push([name, values]); // not a choice
    } else {
      others.push([name, values]);
    }
  }
  renderOtherFilters(others);
}

let otherFilters = [];

function renderOtherFilters(others) {
  otherFilters = others;
  const list = clear($("other-filters-list"));
  others.forEach(([name, values], index) => {
    list.append(
      el(
        "li",
        { className: "chip" },
        el("span", {}, `${name}: ${values.join(" | ")}`),
        el("button", {
          type: "button",
          className: "chip-remove",
          "aria-label": `Remove the filter ${name}`,
          onclick: () => renderOtherFilters(otherFilters.filter((_, i) => i !== index)),
        }, "✕"),
      ),
    );
  });
  show($("other-filters"), others.length > 0);
}

/** The filters the form (and its remaining chips) describe. */
export function formFilters(form) {
  const filters = new URLSearchParams();
  for (const field of form.elements) {
    if (field.name && field.value.trim()) filters.append(field.name, field.value.trim());
  }
  for (const [name, values] of otherFilters) for (const value of values) filters.append(name, value);
  return filters;
}

// -- results ----------------------------------------------------------------

function emailStatus(status) {
  if (!status) return "";
  return el("span", { className: `badge badge-${status}` }, status.replaceAll("_", " "));
}

function row(contact) {
  const company = contact.company || {};
  const open = () => onRowOpen(contact.uuid);
  return el(
    "tr",
    { dataset: { testid: "results-row", uuid: contact.uuid }, onclick: open },
    el("td", {}, el("button", { type: "button", className: "link", onclick: (e) => (e.stopPropagation(), open()) }, fullName(contact))),
    el("td", {}, contact.title || ""),
    el("td", {}, company.name || ""),
    el("td", {}, place(contact.city, contact.state, contact.country)),
    el("td", {}, emailStatus(contact.email_status)),
    el("td", { className: "numeric" }, formatNumber(company.employees_count)),
  );
}

function renderPage(results, search) {
  const body = clear($("results-body"));
  body.append(...results.map(row));
  show($("results-empty"), results.length === 0);
  $("next-page").disabled = !page.next;
  $("previous-page").disabled = !page.previous;
  $("page-number").textContent = search.cursor && pageNumber === 1 ? "" : `Page ${pageNumber}`;
  for (const th of document.querySelectorAll("th[data-order]")) {
    const field = th.dataset.order;
    const sort = search.ordering === field ? "ascending" : search.ordering === `-${field}` ? "descending" : null;
    if (sort) th.setAttribute("aria-sort", sort);
    else th.removeAttribute("aria-sort");
    th.querySelector("button").disabled = Boolean(search.apolloUrl);
  }
}

function cursorOf(link) {
  if (!link) return null;
  try {
    return new URL(link, location.href).searchParams.get("cursor") || link; // Apollo: a bare token
  } catch {
    return link;
  }
}

async function count(search, mine) {
  const key = search.apolloUrl ? `apollo ${search.apolloUrl}` : search.filters.toString();
  const label = $("results-count");
  if (!counts.has(key)) {
    label.textContent = "Counting…";
    const answer = search.apolloUrl
      ? await getJson("/api/v2/apollo/contacts/count", { method: "POST", json: { url: search.apolloUrl } })
      : await getJson(`/api/v1/contacts/count/?${search.filters}`);
    counts.set(key, answer.count);
  }
  if (mine === generation) label.textContent = plural(counts.get(key), "contact");
}

/** Show the search of the page's URL. */
export async function load() {
  const mine = ++generation;
  const search = currentSearch();
  const error = $("results-error");
  error.textContent = "";
  $("results-title").textContent = search.apolloUrl ? "Contacts (Apollo search)" : "Contacts";
  let answer;
  try {
    if (search.apolloUrl) {
      const body = { url: search.apolloUrl, limit: LIMIT };
      if (search.cursor) body.cursor = search.cursor;
      answer = await getJson("/api/v2/apollo/contacts", { method: "POST", json: body });
    } else {
      const query = new URLSearchParams(search.filters);
      query.set("limit", LIMIT);
      if (search.ordering) query.set("ordering", search.ordering);
      if (search.cursor) query.set("cursor", search.cursor);
      answer = await getJson(`/api/v2/contacts/?${query}`);
    }
  } catch (failure) {
    if (mine !== generation) return;
    error.textContent = failure.message;
    clear($("results-body"));
    $("results-count").textContent = "";
    onReport(search.apolloUrl ? null : undefined);
    return;
  }
  if (mine !== generation) return;
  page = { next: cursorOf(answer.next), previous: cursorOf(answer.previous) };
  renderPage(answer.results, search);
  performance.mark("explorer-results");
  if (performance.getEntriesByName("explorer-submit", "mark").length) {
    performance.measure("explorer-search", "explorer-submit", "explorer-results");
    performance.clearMarks("explorer-submit");
  }
  onReport(search.apolloUrl ? answer : null);
  count(search, mine).catch((failure) => {
    if (mine === generation) $("results-count").textContent = `Count unavailable: ${failure.message}`;
  });
}

/** A new search (page 1); `performance` measures submit → first results. */
export function submit(search) {
  performance.mark("explorer-submit");
  pageNumber = 1;
  return navigate({ ...search, cursor: "" });
}

export function turnPage(direction) {
  const cursor = direction > 0 ? page.next : page.previous;
  if (!cursor) return Promise.resolve();
  pageNumber = Math.max(1, pageNumber + direction);
  return navigate({ ...currentSearch(), cursor });
}

/** Cycle a column: ascending, descending, back to the default order. */
export function orderBy(field) {
  const search = currentSearch();
  const ordering = search.ordering === field ? `-${field}` : search.ordering === `-${field}` ? "" : field;
  pageNumber = 1;
  return navigate({ ...search, ordering, cursor: "" });
}

export function resetPaging() {
  pageNumber = 1;
}
