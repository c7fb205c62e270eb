// Small DOM helpers: elements are built with textContent, never innerHTML,
// so nothing the API answers is ever read as markup.

export const $ = (id) => document.getElementById(id);

/** el("a", {href: "#", className: "x"}, "text", child) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

const numbers = new Intl.NumberFormat();
export const formatNumber = (n) => (n === null || n === undefined ? "" : numbers.format(n));

export function plural(n, one, many = `${one}s`) {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

/** "London, England, United Kingdom" from the parts that are set. */
export const place = (...parts) => parts.filter(Boolean).join(", ");

export const fullName = (c) => [c.first_name, c.last_name].filter(Boolean).join(" ") || c.email || "(no name)";

/** A <dl> of label/value pairs; empty values are skipped. */
export function fillPairs(dl, pairs) {
  clear(dl);
  for (const [label, value] of pairs) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
    dl.append(el("dt", {}, label), el("dd", {}, Array.isArray(value) ? value.join(", ") : value));
  }
}
