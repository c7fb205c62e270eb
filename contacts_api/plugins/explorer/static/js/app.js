// The explorer page: signs in, then wires the search, the Apollo URL, the
// import and the export to the API. Each part lives in its own module.

import { currentUser, onSessionChange, signIn, signOut } from "./api.js";
import { openContact, setUpDetails } from "./details.js";
import { $, clear, el, show } from "./dom.js";
import { resetJobs, setUpJobs } from "./jobs.js";
import * as search from "./search.js";

// -- tabs (the WAI-ARIA tabs pattern: arrows move between tabs) --------------

const tabs = () => [...document.querySelectorAll("[role=tab]")];

function selectTab(tab, { focus = false } = {}) {
  for (const other of tabs()) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    show($(other.getAttribute("aria-controls")), selected);
  }
  if (focus) tab.focus();
}

function setUpTabs() {
  for (const tab of tabs()) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const all = tabs();
      const here = all.indexOf(tab);
      const targets = {
        ArrowRight: (here + 1) % all.length,
        ArrowLeft: (here - 1 + all.length) % all.length,
        Home: 0,
        End: all.length - 1,
      };
      if (!(event.key in targets)) return;
      event.preventDefault();
      selectTab(all[targets[event.key]], { focus: true });
    });
  }
}

// -- the Apollo report --------------------------------------------------------

let lastApolloAnswer = null;

function showReport(answer) {
  lastApolloAnswer = answer || null;
  show($("apollo-report"), Boolean(answer));
  if (!answer) return;
  const applied = clear($("apollo-applied"));
  const names = Object.keys(answer.applied_filters || {});
  if (!names.length) applied.append(el("dt", {}, "None"), el("dd", { className: "muted" }, "the URL applies no filter"));
  for (const name of names) {
    applied.append(el("dt", {}, name), el("dd", {}, answer.applied_filters[name].join(" | ")));
  }
  const warnings = clear($("apollo-warnings"));
  for (const warning of answer.warnings || []) warnings.append(el("li", { className: "warning" }, warning));
  show($("apollo-warnings-box"), (answer.warnings || []).length > 0);
  const unmapped = clear($("apollo-unmapped"));
  for (const item of answer.unmapped_parameters || []) {
    unmapped.append(
      el(
        "li",
        {},
        el("code", {}, item.name),
        ` = ${item.values.join(" | ")}`,
        el("span", { className: "reason" }, `${item.reason} (${item.category})`),
      ),
    );
  }
  if (!unmapped.children.length) unmapped.append(el("li", { className: "muted" }, "Everything in the URL was applied."));
}

function openAsNormalSearch() {
  if (!lastApolloAnswer) return;
  const filters = new URLSearchParams();
  for (const [name, values] of Object.entries(lastApolloAnswer.applied_filters || {})) {
    for (const value of values) filters.append(name, value);
  }
  search.fillForm($("search-form"), filters);
  selectTab($("tab-search"), { focus: true });
  search.submit({ filters, ordering: "" });
}

// -- the page's state follows its URL -----------------------------------------

function syncFormsWithUrl() {
  const current = search.currentSearch();
  if (current.apolloUrl) {
    $("apollo-url").value = current.apolloUrl;
    selectTab($("tab-apollo"));
  } else {
    search.fillForm($("search-form"), current.filters);
  }
}

function setUpSearch() {
  search.configure({ openRow: openContact, report: showReport });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search.submit({ filters: search.formFilters($("search-form")), ordering: search.currentSearch().ordering });
  });
  $("search-clear").addEventListener("click", () => {
    search.fillForm($("search-form"), new URLSearchParams());
    search.submit({ filters: new URLSearchParams(), ordering: "" });
  });
  $("apollo-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const url = $("apollo-url").value.trim();
    if (url) search.submit({ apolloUrl: url, filters: new URLSearchParams() });
  });
  $("apollo-open").addEventListener("click", openAsNormalSearch);
  $("next-page").addEventListener("click", () => search.turnPage(1));
  $("previous-page").addEventListener("click", () => search.turnPage(-1));
  for (const th of document.querySelectorAll("th[data-order]")) {
    th.querySelector("button").addEventListener("click", () => search.orderBy(th.dataset.order));
  }
  window.addEventListener("popstate", () => {
    if (!currentUser()) return;
    search.resetPaging();
    syncFormsWithUrl();
    search.load();
  });
}

// -- signing in and out -------------------------------------------------------

const ENDED = { expired: "Your session has ended. Sign in again to go on." };

function setUpSession() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("login-error");
    error.textContent = "";
    const button = event.submitter || $("login-form").querySelector("[type=submit]");
    button.disabled = true;
    try {
      await signIn($("login-email").value.trim(), $("login-password").value);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      button.disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => signOut());
  onSessionChange((user, reason) => {
    show($("sign-in"), !user);
    show($("workspace"), Boolean(user));
    show($("session"), Boolean(user));
    if (user) {
      $("login-form").reset();
      $("session-user").textContent = user.email;
      syncFormsWithUrl();
      search.load();
      $("f-search").focus();
      return;
    }
    resetJobs();
    clear($("results-body"));
    $("results-count").textContent = "";
    if ($("details").open) $("details").close();
    $("login-error").textContent = ENDED[reason] || "";
    $("login-email").focus();
  });
}

setUpTabs();
setUpSearch();
setUpDetails();
setUpJobs();
setUpSession();
$("login-email").focus();
