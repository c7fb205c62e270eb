// A contact's details (GET /api/v2/contacts/{uuid}/) with its company's other
// contacts (GET /api/v1/companies/{uuid}/contacts/), in a modal dialog.

import { getJson } from "./api.js";
import { $, clear, el, fillPairs, formatNumber, fullName, place, show } from "./dom.js";

const COLLEAGUES = 10;

export async function openContact(uuid) {
  const dialog = $("details");
  const title = $("details-title");
  title.textContent = "Loading…";
  clear($("details-fields"));
  show($("details-company"), false);
  if (!dialog.open) dialog.showModal();
  let contact;
  try {
    contact = await getJson(`/api/v2/contacts/${encodeURIComponent(uuid)}/`);
  } catch (error) {
    title.textContent = "This contact cannot be shown";
    fillPairs($("details-fields"), [["Problem", error.message]]);
    return;
  }
  title.textContent = fullName(contact);
  const meta = contact.metadata || {};
  fillPairs($("details-fields"), [
    ["Title", contact.title],
    ["Seniority", contact.seniority && contact.seniority.replaceAll("_", " ")],
    ["Departments", contact.departments],
    ["Email", contact.email],
    ["Email status", contact.email_status && contact.email_status.replaceAll("_", " ")],
    ["Mobile phone", contact.mobile_phone],
    ["Work phone", meta.work_direct_phone],
    ["Location", place(contact.city, contact.state, contact.country)],
    ["LinkedIn", contact.linkedin_url],
    ["Stage", meta.stage],
  ]);
  const company = contact.company;
  if (!company) return;
  $("details-company-title").textContent = company.name || "Company";
  fillPairs($("details-company-fields"), [
    ["Domain", company.domain],
    ["Employees", formatNumber(company.employees_count)],
    ["Industries", company.industries],
    ["Keywords", company.keywords],
    ["Technologies", company.technologies],
    ["Location", place(company.city, company.state, company.country)],
  ]);
  show($("details-company"));
  const list = clear($("details-colleagues"));
  list.append(el("li", { className: "muted" }, "Loading…"));
  try {
    const query = new URLSearchParams({ limit: COLLEAGUES + 1, view: "simple", ordering: "last_name" });
    const others = await getJson(`/api/v1/companies/${company.uuid}/contacts/?${query}`);
    const colleagues = others.results.filter((other) => other.uuid !== contact.uuid).slice(0, COLLEAGUES);
    clear(list);
    if (!colleagues.length) list.append(el("li", { className: "muted" }, "No other contacts."));
    for (const other of colleagues) {
      list.append(
        el(
          "li",
          {},
          el("button", { type: "button", className: "link", onclick: () => openContact(other.uuid) }, fullName(other)),
          other.title ? el("span", { className: "muted" }, ` · ${other.title}`) : null,
        ),
      );
    }
  } catch (error) {
    clear(list).append(el("li", { className: "error" }, error.message));
  }
}

export function setUpDetails() {
  $("details-close").addEventListener("click", () => $("details").close());
  // A click on the backdrop (outside the dialog's box) closes it too.
  $("details").addEventListener("click", (event) => {
    if (event.target === $("details")) $("details").close();
  });
}
