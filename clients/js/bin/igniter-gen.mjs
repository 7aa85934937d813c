#!/usr/bin/env node
// Turns an igniter-cpp app's self-description (GET /__igniter/schema) into a typed TypeScript module:
//   node clients/js/bin/igniter-gen.mjs --schema <file-or-url> --out <file.ts> [--import <module>]
// The module exports `createApi(client)`; inputs are typed from the JSON Schemas of body, query and
// params, so a missing or misspelt field fails `tsc`; answers from the `response` schema of each action
// (a handler returning a typed value, or declaring it with igniter::returns<T>()). Answers the schema does
// not give are `unknown` unless the caller names them: `createApi<{ "posts.list": { posts: Post[] } }>(client)`.
import { realpathSync } from "node:fs";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function propertyName(name) {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function pascal(text) {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");
}

function indent(text, depth) {
  return text.replace(/\n/g, `\n${"  ".repeat(depth)}`);
}

/** The TypeScript type of what a JSON Schema (the subset igniter-cpp emits, and a bit more) admits. */
export function schemaToType(schema, depth = 0) {
  if (schema === true || schema === undefined || schema === null) return "unknown";
  if (schema === false) return "never";
  if (typeof schema !== "object") return "unknown";
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ") || "never";
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) return union.map((s) => wrap(schemaToType(s, depth))).join(" | ") || "never";
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s) => wrap(schemaToType(s, depth))).join(" & ") || "unknown";
  if (Array.isArray(schema.type))
    return schema.type.map((type) => wrap(schemaToType({ ...schema, type }, depth))).join(" | ");
  switch (schema.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      if (Array.isArray(schema.prefixItems))
        return `[${schema.prefixItems.map((s) => schemaToType(s, depth)).join(", ")}]`;
      return `Array<${schemaToType(schema.items, depth)}>`;
    }
    case "object":
      return objectType(schema, depth);
    default:
      if (schema.properties) return objectType(schema, depth);
      return "unknown";
  }
}

function wrap(type) {
  return /[|&]/.test(type) && !/^[{[(]/.test(type) ? `(${type})` : type;
}

function objectType(schema, depth) {
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const pad = "  ".repeat(depth + 1);
  const lines = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (property && typeof property === "object" && property.description)
      lines.push(`${pad}/** ${String(property.description).replace(/\*\//g, "* /")} */`);
    const optional = required.has(name) ? "" : "?";
    lines.push(`${pad}${propertyName(name)}${optional}: ${schemaToType(property, depth + 1)};`);
  }
  const extra = schema.additionalProperties;
  if (extra && typeof extra === "object") lines.push(`${pad}[key: string]: ${schemaToType(extra, depth + 1)};`);
  else if (extra === true) lines.push(`${pad}[key: string]: unknown;`);
  if (lines.length === 0) return schema.properties || extra === false ? "{}" : "Record<string, unknown>";
  return `{\n${lines.join("\n")}\n${"  ".repeat(depth)}}`;
}

/** Whether a value must be given for `schema` (an object with required members, or not an object). */
function inputRequired(schema) {
  if (!schema || typeof schema !== "object") return false;
  if (schema.type === "object" || schema.properties) return Array.isArray(schema.required) && schema.required.length > 0;
  return true;
}

/** The input type of an action: `{ body?, params, query? }` with only the parts it takes. */
export function inputType(action) {
  const parts = [];
  let anyRequired = false;
  for (const part of ["body", "params", "query"]) {
    const schema = action[part];
    if (schema === null || schema === undefined) continue;
    // Path parameters are always needed to build the URL.
    const required = part === "params" || inputRequired(schema);
    anyRequired ||= required;
    parts.push(`  ${part}${required ? "" : "?"}: ${schemaToType(schema, 1)};`);
  }
  if (parts.length === 0) return "undefined";
  const type = `{\n${parts.join("\n")}\n}`;
  return anyRequired ? type : `${type} | undefined`;
}

/** The TypeScript module for `schema` (the `data` of GET /__igniter/schema, or its whole envelope). */
export function generate(schema, { importFrom = "@igniter-cpp/client", source = "" } = {}) {
  const app = schema && schema.data && schema.data.controllers ? schema.data : schema;
  // Only `importFrom` and `source` shape the output; `undefined` keeps the defaults.
  if (!app || typeof app.controllers !== "object") throw new Error("not an igniter-cpp schema: no `controllers`");
  const out = [];
  out.push(`// Generated by igniter-gen${source ? ` from ${source}` : ""}. Do not edit: run the generator again.`);
  const importAt = out.length; // the factories this module uses, filled in below
  out.push("");
  out.push(`import type { IgniterClient } from ${JSON.stringify(importFrom)};`);
  out.push("");
  out.push(`/** The app's base path: \`createClient({ baseURL: origin + basePath })\`. */`);
  out.push(`export const basePath = ${JSON.stringify(app.basePath ?? "")};`);
  out.push("");
  const controllers = Object.entries(app.controllers).sort(([a], [b]) => a.localeCompare(b));
  const inputs = [];
  const responses = [];
  const used = new Set();
  const tree = [];
  for (const [controllerName, controller] of controllers) {
    const actions = Object.entries(controller.actions ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const members = [];
    for (const [actionName, action] of actions) {
      const key = action.key ?? `${controllerName}.${actionName}`;
      const typeName = pascal(key);
      if (action.description) out.push(`/** Input of \`${key}\`: ${action.description} */`);
      else out.push(`/** Input of \`${key}\`. */`);
      out.push(`export type ${typeName}Input = ${inputType(action)};`);
      out.push("");
      inputs.push(`  ${JSON.stringify(key)}: ${typeName}Input;`);
      // The answer's data, from the action's `response` schema (null or absent: not said). A stream's entry
      // types its messages, which its `response` (the handler's answer on subscribe) does not describe.
      const typed = action.type !== "stream" && action.response !== null && action.response !== undefined;
      responses.push(`  ${JSON.stringify(key)}: ${typed ? schemaToType(action.response, 1) : "unknown"};`);
      const make = action.type === "mutation" ? "mutationAction" : action.type === "stream" ? "streamAction" : "queryAction";
      const descriptor = JSON.stringify({ key, type: action.type ?? "query", method: action.method ?? "GET", path: action.path ?? "/" });
      used.add(make);
      members.push(`    ${propertyName(actionName)}: ${make}<${typeName}Input, Out<R, ${JSON.stringify(key)}>>(client, ${descriptor}),`);
    }
    tree.push(`  ${propertyName(controllerName)}: {\n${members.join("\n")}\n  },`);
  }
  out[importAt] = used.size
    ? `import { ${["queryAction", "mutationAction", "streamAction"].filter((f) => used.has(f)).join(", ")} } from ${JSON.stringify(importFrom)};`
    : "";
  out.push("/** The input of every action, by key. */");
  out.push(`export interface Inputs {\n${inputs.join("\n")}\n}`);
  out.push("");
  out.push("/** The data of every action's answer, by key (`unknown` where the schema gives none). */");
  out.push(`export interface Responses {\n${responses.join("\n")}\n}`);
  out.push("");
  out.push("/** Names of the actions. */");
  out.push("export type ActionKey = keyof Responses;");
  out.push("");
  out.push("/** The answer type of `K`: the caller's own type when given to createApi, else the schema's. */");
  out.push("export type Out<R, K extends ActionKey> = K extends keyof R ? R[K] : Responses[K];");
  out.push("");
  out.push("/**");
  out.push(" * The typed actions of the app. Name answer types the schema lacks with the type argument:");
  out.push(' * `createApi<{ "posts.list": { posts: Post[] } }>(client)`.');
  out.push(" */");
  out.push("export function createApi<R extends { [K in ActionKey]?: unknown } = {}>(client: IgniterClient) {");
  out.push(`  return {\n${tree.join("\n").replace(/^/gm, "  ")}\n  };`);
  out.push("}");
  out.push("");
  out.push("/** The type of `createApi(client)`. */");
  out.push("export type Api<R extends { [K in ActionKey]?: unknown } = {}> = ReturnType<typeof createApi<R>>;");
  out.push("");
  return out.join("\n");
}

async function loadSchema(location) {
  if (/^https?:\/\//.test(location)) {
    const response = await fetch(location);
    if (!response.ok) throw new Error(`${location}: HTTP ${response.status}`);
    return response.json();
  }
  return JSON.parse(await readFile(location, "utf8"));
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (!flag.startsWith("--")) throw new Error(`unexpected argument ${flag}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value`);
    args[flag.slice(2)] = value;
    i += 1;
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.schema || !args.out) {
    console.error("usage: igniter-gen --schema <file-or-url> --out <file.ts> [--import <module>]");
    process.exit(2);
  }
  const schema = await loadSchema(args.schema);
  const text = generate(schema, { importFrom: args.import ?? undefined, source: args.schema.replace(/^.*\//, "") });
  await mkdir(dirname(args.out), { recursive: true });
  await writeFile(args.out, text);
}

// Run as a program (also through node_modules/.bin's symlink, hence the real path), not imported.
const invokedPath = (() => {
  try {
    return realpathSync(process.argv[1] ?? "");
  } catch {
    return "";
  }
})();
if (import.meta.url === pathToFileURL(invokedPath).href) {
  main().catch((error) => {
    console.error(`igniter-gen: ${error.message}`);
    process.exit(1);
  });
}
