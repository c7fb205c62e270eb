// Import (POST /api/v1/contacts/import/, with the write key) and export
// (POST /api/v2/exports/contacts/export), each followed live through its
// events route until it ends.

import { call, getJson } from "./api.js";
import { $, clear, el, formatNumber, plural, show } from "./dom.js";
import { followJob } from "./sse.js";
import { currentSearch, filtersObject } from "./search.js";

const FINAL = new Set(["completed", "failed"]);
const isFinal = (job) => FINAL.has(job.status);
let writeKey = ""; // this tab's memory only, like the tokens
let running = new AbortController();

/** Stop following jobs and forget the write key (on sign-out). */
export function resetJobs() {
  running.abort();
  running = new AbortController();
  writeKey = "";
  $("import-key").value = "";
  $("import-form").reset();
  show($("import-job"), false);
  $("import-error").textContent = "";
  $("export-status").textContent = "";
  show($("export-download"), false);
}

// -- import -----------------------------------------------------------------

function showImport(job) {
  const progress = $("import-progress");
  if (job.status === "pending" || job.total_rows === null) {
    progress.removeAttribute("value"); // indeterminate: the row total is known at the end
  }
  if (isFinal(job)) {
    progress.max = Math.max(job.total_rows || job.processed_rows || 1, 1);
    progress.value = progress.max;
  }
  $("import-counts").textContent = [
    `${job.file_name}: ${plural(job.processed_rows, "row")} read`,
    `${formatNumber(job.created_count)} created`,
    `${formatNumber(job.updated_count)} updated`,
    `${formatNumber(job.error_count)} skipped`,
  ].join(" · ");
  $("import-status").textContent = `Status: ${job.status}`;
  $("import-status").className = `status status-${job.status}`;
}

async function showImportEnd(job) {
  const warnings = clear($("import-warnings"));
  for (const warning of job.warnings || []) warnings.append(el("li", { className: "warning" }, warning));
  if (job.error) warnings.append(el("li", { className: "error" }, job.error));
  if (!job.error_count) return;
  const page = await getJson(`/api/v1/contacts/import/${job.id}/errors/?limit=100`);
  const list = clear($("import-errors"));
  for (const problem of page.results) {
    list.append(el("li", {}, el("strong", {}, `Row ${problem.row_number}: `), problem.message));
  }
  if (page.next) list.append(el("li", { className: "muted" }, "…and more (see the errors route of the API)."));
  show($("import-errors-box"));
}

export function chooseFile(file) {
  const input = $("import-file");
  const transfer = new DataTransfer();
  transfer.items.add(file);
  input.files = transfer.files;
}

async function startImport(event) {
  event.preventDefault();
  const error = $("import-error");
  error.textContent = "";
  const file = $("import-file").files[0];
  writeKey = $("import-key").value.trim() || writeKey;
  if (!file) return void (error.textContent = "Choose a CSV file first.");
  if (!writeKey) return void (error.textContent = "Enter the write key: the API needs it to import.");
  const form = new FormData();
  form.append("file", file, file.name);
  const submit = event.submitter || $("import-form").querySelector("[type=submit]");
  submit.disabled = true;
  let job;
  try {
    const response = await call("/api/v1/contacts/import/", {
      method: "POST",
      body: form,
      headers: { "X-Contacts-Write-Key": writeKey },
    });
    job = await response.json();
  } catch (failure) {
    if (failure.code === "INVALID_WRITE_KEY") writeKey = "";
    error.textContent = failure.message;
    return;
  } finally {
    submit.disabled = false;
  }
  show($("import-job"));
  show($("import-errors-box"), false);
  clear($("import-warnings"));
  showImport(job);
  const base = `/api/v1/contacts/import/${job.id}`;
  try {
    const final = await followJob(`${base}/events`, `${base}/`, {
      onUpdate: showImport,
      isFinal,
      signal: running.signal,
    });
    if (final) await showImportEnd(final);
  } catch (failure) {
    error.textContent = failure.message;
  }
}

// -- export -----------------------------------------------------------------

function exportBody() {
  const search = currentSearch();
  if (search.apolloUrl) return { apollo_url: search.apolloUrl };
  const filters = filtersObject(search.filters);
  return Object.keys(filters).length ? { filters } : null;
}

async function startExport() {
  const status = $("export-status");
  const link = $("export-download");
  show(link, false);
  const body = exportBody();
  if (!body) {
    status.textContent = "Add a filter first: an export takes the current search's filters.";
    return;
  }
  const button = $("export-start");
  button.disabled = true;
  const showExport = (job) => {
    status.textContent = job.status === "completed"
      ? `Export ${plural(job.row_count, "row")}: ${job.status}`
      : `Export: ${job.status}${job.error ? ` (${job.error})` : ""}`;
  };
  try {
    const job = await getJson("/api/v2/exports/contacts/export", { method: "POST", json: body });
    showExport(job);
    const base = `/api/v2/exports/${job.id}`;
    const final = await followJob(`${base}/events`, base, { onUpdate: showExport, isFinal, signal: running.signal });
    if (final && final.status === "completed") {
      const grant = await getJson(`${base}/download`);
      link.href = grant.download_url;
      link.textContent = `Download ${final.file_name}`;
      show(link);
    }
  } catch (failure) {
    status.textContent = `Export failed: ${failure.message}`;
  } finally {
    button.disabled = false;
  }
}

export function setUpJobs() {
  $("import-form").addEventListener("submit", startImport);
  $("export-start").addEventListener("click", startExport);
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("drop-active");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("drop-active"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drop-active");
    const file = event.dataTransfer.files[0];
    if (file) chooseFile(file);
  });
}
