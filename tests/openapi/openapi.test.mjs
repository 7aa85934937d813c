// The posts demo's OpenAPI document: valid OpenAPI 3.1 (@seriousme/openapi-schema-validator, against the
// official 3.1 schema), every JSON Schema in it a valid 2020-12 schema (Ajv), every action of the app's
// own description in it, and real answers of the demo matching what it says.
//
// Run: POSTS_SERVER=<path to posts> node --test tests/openapi/openapi.test.mjs   (ctest -L js does this)
// Needs `npm ci` in tests/openapi (scripts/setup-js.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { freePort, startDemo } from './demo.mjs';

const serverPath = process.env.POSTS_SERVER ?? process.argv[2];
let server;
let base;
let dataDir;

const getJson = async (url, init) => {
  const response = await fetch(base + url, init);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
};

before(async () => {
  assert.ok(serverPath, 'POSTS_SERVER (path to the posts binary) is not set');
  dataDir = mkdtempSync(path.join(tmpdir(), 'igniter-openapi-'));
  const port = await freePort();
  server = await startDemo(serverPath, { PORT: String(port), DATA_DIR: dataDir });
  base = `http://127.0.0.1:${port}`;
});

after(() => {
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

let documentCache;
const openapi = async () => {
  if (!documentCache) {
    const { status, type, body } = await getJson('/__igniter/openapi.json');
    assert.equal(status, 200);
    assert.match(type, /^application\/json/);
    documentCache = body;
  }
  return documentCache;
};

// The document with every $ref replaced by what it points to (the validator's own resolver).
const resolved = async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(await openapi()));
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  return validator.resolveRefs();
};

const jsonSchemaOf = (response) => response.content['application/json'].schema;

test('the document is valid OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(await openapi()));
  assert.deepEqual(result.errors, undefined, JSON.stringify(result.errors, null, 2));
  assert.equal(result.valid, true);
  assert.equal(validator.version, '3.1');
  const doc = await openapi();
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.info.title && doc.info.version);
});

test('every JSON Schema in it is a valid 2020-12 schema', async () => {
  const doc = await openapi();
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  addFormats(ajv);
  // The components as the $defs of one schema, so that $refs into them resolve.
  const defs = JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'));
  ajv.addSchema({ $id: 'doc', $defs: defs });
  let count = 0;
  const visit = (node, where) => {
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${where}/${i}`));
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema' && value && typeof value === 'object' && !('$ref' in value)) {
        const rebased = JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"doc#/$defs/'));
        assert.ok(ajv.validateSchema(rebased), `${where}/schema: ${ajv.errorsText(ajv.errors)}`);
        ajv.compile(rebased); // unknown keywords and unresolvable $refs throw
        count++;
      } else {
        visit(value, `${where}/${key}`);
      }
    }
  };
  visit(doc.paths, '#/paths');
  for (const name of Object.keys(doc.components.schemas)) ajv.compile({ $ref: `doc#/$defs/${name}` });
  assert.ok(count > 10, `only ${count} schemas found`);
});

test('every action of the app is in it, with its method, path and inputs', async () => {
  const doc = await openapi();
  const { body: described } = await getJson('/__igniter/schema');
  const { basePath, controllers } = described.data;
  let actions = 0;
  for (const controller of Object.values(controllers)) {
    for (const action of Object.values(controller.actions)) {
      actions++;
      const route = (basePath + action.path).replace(/\/+$/, '').replace(/:([^/]+)/g, '{$1}');
      const item = doc.paths[route];
      assert.ok(item, `${action.key}: no path ${route} (paths: ${Object.keys(doc.paths).join(', ')})`);
      const operation = item[action.method.toLowerCase()];
      assert.ok(operation, `${action.key}: no ${action.method} on ${route}`);
      assert.equal(operation.operationId, action.key);
      for (const name of route.match(/\{[^}]+\}/g) ?? [])
        assert.ok(operation.parameters.some((p) => p.in === 'path' && `{${p.name}}` === name),
                  `${action.key}: path parameter ${name}`);
      for (const name of Object.keys(action.query?.properties ?? {}))
        assert.ok(operation.parameters.some((p) => p.in === 'query' && p.name === name),
                  `${action.key}: query parameter ${name}`);
      if (action.body) assert.deepEqual(operation.requestBody.content['application/json'].schema, action.body);
      else assert.equal(operation.requestBody, undefined);
      const success = operation.responses['200'] ?? operation.responses['2XX'];
      assert.ok(success, `${action.key}: no success answer`);
      if (action.response) assert.deepEqual(jsonSchemaOf(success).properties.data, action.response);
    }
  }
  assert.ok(actions >= 10, `only ${actions} actions described`);
  const stream = doc.paths[`${basePath}/sse/events`]?.get;
  assert.ok(stream, 'the SSE endpoint is missing');
  assert.ok(stream.responses['200'].content['text/event-stream']);
  assert.deepEqual(stream.parameters.map((p) => p.name), ['channels', 'scopes', 'lastEventId', 'Last-Event-ID']);
  assert.ok(stream['x-igniter-channels'].includes('notifications.stream'));
});

test("the demo's answers match the document", async () => {
  const doc = await resolved();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const check = (schema, body, what) => {
    const validate = ajv.compile(schema);
    assert.ok(validate(body), `${what}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
  };
  const posts = doc.paths['/api/v1/posts'];
  const byId = doc.paths['/api/v1/posts/{id}'];

  const login = await getJson('/api/v1/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ada' }),
  });
  assert.equal(login.status, 200);
  check(jsonSchemaOf(doc.paths['/api/v1/auth/login'].post.responses['2XX']), login.body, 'auth.login 200');
  const auth = { authorization: `Bearer ${login.body.data.token}`, 'content-type': 'application/json' };

  const created = await getJson('/api/v1/posts', {
    method: 'POST', headers: auth, body: JSON.stringify({ title: 'Hello', content: 'First post' }),
  });
  assert.equal(created.status, 201);
  check(jsonSchemaOf(posts.post.responses['2XX']), created.body, 'posts.create 201');

  const list = await getJson('/api/v1/posts?limit=5');
  assert.equal(list.status, 200);
  check(jsonSchemaOf(posts.get.responses['200']), list.body, 'posts.list 200');
  assert.equal(list.body.data.posts[0].title, 'Hello');

  const invalid = await getJson('/api/v1/posts', { method: 'POST', headers: auth, body: JSON.stringify({ title: '' }) });
  assert.equal(invalid.status, 400);
  check(jsonSchemaOf(posts.post.responses['400']), invalid.body, 'posts.create 400');
  assert.equal(invalid.body.error.code, 'VALIDATION_ERROR');

  const anonymous = await getJson('/api/v1/posts', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'x', content: 'y' }),
  });
  assert.equal(anonymous.status, 401);
  check(jsonSchemaOf(posts.post.responses['401']), anonymous.body, 'posts.create 401');

  const missing = await getJson('/api/v1/posts/999999');
  assert.equal(missing.status, 404);
  check(jsonSchemaOf(byId.get.responses['404']), missing.body, 'posts.getById 404');
});
