#!/usr/bin/env python3
"""A Kubernetes API double that `govcloud run` can run against, over plain HTTP.

It is kmock's `KubernetesEmulator` (discovery, `/version`, object storage in
`kmock.objects`), with the object API served by this subclass, because the stock
emulator lacks what a kube-runtime controller needs:

- metadata.resourceVersion (one cluster-wide counter, as etcd's), uid,
  creationTimestamp and generation, stamped on every create and update;
- a list that carries the current resourceVersion, and a watch that resumes from a
  resourceVersion (every event after it, then live ones), with labelSelector and
  fieldSelector, timeoutSeconds, and DELETED/ADDED when an object leaves or enters a
  watch's selector;
- server-side apply (PATCH application/apply-patch+yaml) as create-or-merge: a plain
  recursive merge, with no field ownership;
- merge patch, JSON patch and PUT (with the resourceVersion precondition), and the
  status subresource: writes to an object ignore its status, writes to /status change
  only the status;
- DELETE with finalizers (deletionTimestamp until the last finalizer goes), and a
  Namespace deletion that deletes what is in it;
- Namespace paths (/api/v1/namespaces[/NAME]), which kmock's URL parser cannot take;
- CustomResourceDefinitions: creating one starts serving its kind, with its scope;
- the checks a real API server makes that a controller could trip over: a namespaced
  object needs an existing namespace, names and labels must be valid, apiVersion and
  kind must match the URL, apply needs a fieldManager, and events.k8s.io/v1 Events
  are validated as the API server does (note at most 1 kB, required fields).

Not emulated: field ownership and apply conflicts, admission webhooks, OpenAPI schema
validation, garbage collection by ownerReferences, and every controller of a cluster
(nothing rolls Deployments out or writes their status).

Usage: apiserver.py [PORT] [--audit FILE]   (0 or nothing picks a free port). Listens on
127.0.0.1 only, prints the bound port as the first line of stdout, and exits 0 on
SIGTERM. With --audit, every object API request is logged as a JSON line with the verb
and resource RBAC would authorise it as, and the client's User-Agent.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime
import json
import re
import signal
import sys
import time
import uuid
from typing import Any

import aiohttp.web
import jsonpatch
import kmock

# --------------------------------------------------------------------------------------
# Resources

# (group, version, plural) -> (kind, namespaced, subresources)
BUILTIN = {
    ('', 'v1', 'namespaces'): ('Namespace', False, {'status'}),
    ('', 'v1', 'nodes'): ('Node', False, {'status'}),
    ('', 'v1', 'services'): ('Service', True, {'status'}),
    ('', 'v1', 'configmaps'): ('ConfigMap', True, set()),
    ('', 'v1', 'limitranges'): ('LimitRange', True, set()),
    ('', 'v1', 'resourcequotas'): ('ResourceQuota', True, {'status'}),
    ('', 'v1', 'events'): ('Event', True, set()),
    ('apps', 'v1', 'deployments'): ('Deployment', True, {'status'}),
    ('policy', 'v1', 'poddisruptionbudgets'): ('PodDisruptionBudget', True, {'status'}),
    ('networking.k8s.io', 'v1', 'networkpolicies'): ('NetworkPolicy', True, set()),
    ('rbac.authorization.k8s.io', 'v1', 'rolebindings'): ('RoleBinding', True, set()),
    ('events.k8s.io', 'v1', 'events'): ('Event', True, set()),
    ('coordination.k8s.io', 'v1', 'leases'): ('Lease', True, set()),
    ('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'): ('CustomResourceDefinition', False, {'status'}),
}
CRD = kmock.resource('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')
NAMESPACES = kmock.resource('', 'v1', 'namespaces')
SYSTEM_NAMESPACES = ('default', 'kube-system', 'kube-public', 'kube-node-lease')
VERBS = {'create', 'delete', 'get', 'list', 'patch', 'update', 'watch'}


class ApiError(Exception):
    """An error answered as a Kubernetes `Status`."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> dict[str, Any]:
        return {
            'apiVersion': 'v1', 'kind': 'Status', 'metadata': {}, 'status': 'Failure',
            'code': self.code, 'reason': self.reason, 'message': self.message, 'details': self.details,
        }


def api_version(res: kmock.resource) -> str:
    return f'{res.group}/{res.version}' if res.group else res.version


def now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


# --------------------------------------------------------------------------------------
# Paths, selectors, validation

API_PATH = re.compile(
    r'^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))'
    r'(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?/?$'
)
NAMESPACE_SUB = re.compile(r'^/api/v1/namespaces/(?P<name>[^/]+)/(?P<sub>status|finalize)/?$')


def parse_path(path: str) -> tuple[kmock.resource, str | None, str | None, str | None] | None:
    """(resource, namespace, name, subresource) of an object API path; None for others."""
    if m := NAMESPACE_SUB.match(path):
        return NAMESPACES, None, m['name'], m['sub']
    m = API_PATH.match(path)
    if m is None:
        return None
    group, version = ('', 'v1') if m['core'] else (m['group'], m['version'])
    return kmock.resource(group, version, m['plural']), m['ns'], m['name'], m['sub']


SELECTOR_TERM = re.compile(
    r'^\s*(?:(?P<not>!)\s*(?P<nkey>[^\s!=,()]+)'
    r'|(?P<key>[^\s!=,()]+)\s*(?:(?P<op>==|=|!=)\s*(?P<val>[^\s,()]*)'
    r'|\s+(?P<setop>in|notin)\s*\((?P<vals>[^)]*)\))?)\s*$'
)


def split_terms(selector: str) -> list[str]:
    """Splits on commas outside parentheses."""
    terms, depth, start = [], 0, 0
    for i, c in enumerate(selector):
        depth += c == '('
        depth -= c == ')'
        if c == ',' and depth == 0:
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return [t for t in terms if t.strip()]


def label_matcher(selector: str | None):
    """A predicate over label dicts for a label selector; 400 for one it cannot parse."""
    checks = []
    for term in split_terms(selector or ''):
        m = SELECTOR_TERM.match(term)
        if m is None:
            raise ApiError(400, 'BadRequest', f'unable to parse requirement: {term!r}')
        if m['not']:
            checks.append(lambda labels, k=m['nkey']: k not in labels)
        elif m['setop']:
            vals = {v.strip() for v in m['vals'].split(',') if v.strip()}
            if m['setop'] == 'in':
                checks.append(lambda labels, k=m['key'], vs=vals: labels.get(k) in vs)
            else:
                checks.append(lambda labels, k=m['key'], vs=vals: labels.get(k) not in vs)
        elif m['op'] == '!=':
            checks.append(lambda labels, k=m['key'], v=m['val']: labels.get(k) != v)
        elif m['op']:
            checks.append(lambda labels, k=m['key'], v=m['val']: labels.get(k) == v)
        else:
            checks.append(lambda labels, k=m['key']: k in labels)
    return lambda labels: all(check(labels) for check in checks)


def field_matcher(selector: str | None):
    """metadata.name and metadata.namespace, with =, == and != (all a controller uses)."""
    checks = []
    for term in split_terms(selector or ''):
        m = re.match(r'^\s*(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*([^\s,]*)\s*$', term)
        if m is None:
            raise ApiError(400, 'BadRequest', f'field selector {term!r} is not supported by this double')
        field, op, value = m.groups()
        key = field.split('.')[1]
        checks.append(lambda meta, k=key, v=value, eq=(op != '!='): (meta.get(k, '') == v) == eq)
    return lambda meta: all(check(meta) for check in checks)


DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS1035_LABEL = re.compile(r'^[a-z]([-a-z0-9]*[a-z0-9])?$')
DNS1123_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
LABEL_NAME = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$')
LABEL_VALUE = re.compile(r'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$')


def validate(kind: str, obj: dict[str, Any]) -> list[str]:
    """The field errors the API server's validation would report (a subset)."""
    errors = []
    meta = obj.get('metadata') or {}
    name = meta.get('name') or ''
    if kind == 'Namespace':
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            errors.append(f'metadata.name: Invalid value: {name!r}: must be a DNS-1123 label')
    elif kind == 'Service':
        if len(name) > 63 or not DNS1035_LABEL.match(name):
            errors.append(f'metadata.name: Invalid value: {name!r}: must be a DNS-1035 label')
    elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        errors.append(f'metadata.name: Invalid value: {name!r}: must be a DNS-1123 subdomain')
    for key, value in (meta.get('labels') or {}).items():
        prefix, _, label = key.rpartition('/')
        if (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix))) or len(label) > 63 \
                or not LABEL_NAME.match(label):
            errors.append(f'metadata.labels: Invalid value: {key!r}: not a qualified name')
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            errors.append(f'metadata.labels: Invalid value: {value!r}: not a valid label value')
    if kind == 'Event' and obj.get('apiVersion') == 'events.k8s.io/v1':
        for field in ('eventTime', 'reportingController', 'reportingInstance', 'action', 'reason', 'regarding'):
            if not obj.get(field):
                errors.append(f'{field}: Required value')
        for field in ('reportingController', 'reportingInstance', 'action', 'reason'):
            if len(obj.get(field) or '') > 128:
                errors.append(f'{field}: Too long: may not be more than 128 bytes')
        if len((obj.get('note') or '').encode()) > 1024:
            errors.append('note: Too long: may not be more than 1024 bytes')
        if obj.get('type') not in ('Normal', 'Warning'):
            errors.append(f'type: Unsupported value: {obj.get("type")!r}')
    return errors


def merge(base: Any, patch: Any, *, drop_nulls: bool) -> Any:
    """RFC 7386 merge patch (drop_nulls) or a plain recursive merge (apply)."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return copy.deepcopy(patch)
    result = dict(base)
    for key, value in patch.items():
        if value is None and drop_nulls:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value, drop_nulls=drop_nulls)
    return result


# --------------------------------------------------------------------------------------
# The server


class ApiServer(kmock.KubernetesEmulator):
    """kmock's emulator with the object API a controller needs (see the module doc)."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.revision = 0
        self.audit = None  # an open file when --audit is given
        self.log: list[tuple[int, kmock.resource, str, dict, dict | None]] = []
        self.watchers: set[asyncio.Queue] = set()
        self.closing = asyncio.Event()
        for (group, version, plural), (kind, namespaced, subresources) in BUILTIN.items():
            self.serve(kmock.resource(group, version, plural), kind, namespaced, subresources)
        for ns in SYSTEM_NAMESPACES:
            self.create(NAMESPACES, None, {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': ns}})

    def serve(self, res: kmock.resource, kind: str, namespaced: bool, subresources: set[str]) -> None:
        self.resources[res] = kmock.ResourceInfo(
            kind=kind, namespaced=namespaced, singular=kind.lower(), verbs=VERBS, subresources=subresources
        )

    # ---- entry point

    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        parsed = parse_path(raw.path)
        if parsed is None:  # discovery, /version: kmock's scaffold
            return await super().__call__(raw)
        self.record(raw, *parsed)
        try:
            return await self.dispatch(raw, *parsed)
        except ApiError as e:
            # Refusals are what a test wants to see when something does not converge (a GET
            # of an absent object is routine for a controller: not worth a line).
            if not (raw.method == 'GET' and e.code == 404):
                print(f'apiserver: {raw.method} {raw.path_qs} -> {e.code} {e.reason}: {e.message}',
                      file=sys.stderr, flush=True)
            return aiohttp.web.json_response(e.status(), status=e.code)

    def record(self, raw, res, namespace, name, sub) -> None:
        """Appends the request's authorization attributes, as the API server's RBAC sees
        them (verb, group, resource, subresource, namespace, name), to the audit log."""
        if self.audit is None:
            return
        method = raw.method.upper()
        watching = raw.query.get('watch') in ('true', '1')
        verb = {
            'GET': 'watch' if watching else ('get' if name else 'list'),
            'POST': 'create',
            'PUT': 'update',
            'PATCH': 'patch',
            'DELETE': 'delete' if name else 'deletecollection',
        }.get(method, method.lower())
        entry = {
            'verb': verb, 'group': res.group, 'resource': res.plural, 'subresource': sub,
            'namespace': namespace, 'name': name, 'userAgent': raw.headers.get('User-Agent', ''),
        }
        self.audit.write(json.dumps(entry) + '\n')
        self.audit.flush()

    async def dispatch(self, raw, res, namespace, name, sub) -> aiohttp.web.StreamResponse:
        if res not in self.resources:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        info = self.resources[res]
        if namespace is not None and not info.namespaced:
            raise ApiError(404, 'NotFound', f'{res.plural} is not namespaced')
        if sub is not None and sub not in info.subresources:
            raise ApiError(404, 'NotFound', f'{res.plural} has no subresource {sub!r}')
        q = raw.query
        method = raw.method.upper()
        if method == 'GET' and q.get('watch') in ('true', '1'):
            return await self.watch(raw, res, namespace, name)
        if method == 'GET' and name is None:
            return reply(self.list(res, namespace, q))
        if method == 'GET':
            return reply(self.get(res, namespace, name).raw)
        body = await raw.read()
        if method == 'POST' and name is None:
            if namespace is None and info.namespaced:
                raise ApiError(405, 'MethodNotAllowed', 'create needs a namespace in the path')
            return reply(self.create(res, namespace, load(body)), 201)
        if method == 'PUT' and name is not None:
            return reply(self.update(res, namespace, name, sub, lambda _: load(body)))
        if method == 'PATCH' and name is not None:
            return reply(self.patch(res, namespace, name, sub, raw.content_type, body, q))
        if method == 'DELETE' and name is not None:
            return reply(self.delete(res, namespace, name))
        raise ApiError(405, 'MethodNotAllowed', f'{method} is not supported on {raw.path}')

    # ---- reads

    def get(self, res, namespace, name) -> kmock.Object:
        key = (res, namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            raise ApiError(404, 'NotFound', f'{res.plural} "{name}" not found',
                           {'name': name, 'group': res.group, 'kind': res.plural})
        return self.objects[key]

    def live(self, res, namespace) -> list[dict]:
        return [
            obj.raw for (r, ns, _), obj in self.objects.items()
            if r == res and not obj.deleted and (namespace is None or ns == namespace)
        ]

    def list(self, res, namespace, q) -> dict:
        labels, fields = label_matcher(q.get('labelSelector')), field_matcher(q.get('fieldSelector'))
        items = [
            o for o in self.live(res, namespace)
            if labels(o['metadata'].get('labels') or {}) and fields(o['metadata'])
        ]
        items.sort(key=lambda o: (o['metadata'].get('namespace', ''), o['metadata']['name']))
        kind = self.resources[res].kind
        return {'apiVersion': api_version(res), 'kind': f'{kind}List',
                'metadata': {'resourceVersion': str(self.revision)}, 'items': items}

    async def watch(self, raw, res, namespace, name) -> aiohttp.web.StreamResponse:
        q = raw.query
        labels, fields = label_matcher(q.get('labelSelector')), field_matcher(q.get('fieldSelector'))

        def selected(obj: dict | None) -> bool:
            if obj is None:
                return False
            meta = obj['metadata']
            return ((namespace is None or meta.get('namespace') == namespace)
                    and (name is None or meta['name'] == name)
                    and labels(meta.get('labels') or {}) and fields(meta))

        def translate(kind: str, new: dict, old: dict | None) -> dict | None:
            if kind == 'MODIFIED':
                was, now_ = selected(old), selected(new)
                kind = 'MODIFIED' if was and now_ else 'ADDED' if now_ else 'DELETED' if was else ''
                return {'type': kind, 'object': new} if kind else None
            return {'type': kind, 'object': new} if selected(new) else None

        # Everything from here to the registration runs without yielding to the loop, so
        # no write can fall between the backlog and the live events.
        rv = q.get('resourceVersion', '')
        initial = q.get('sendInitialEvents') == 'true'
        if rv in ('', '0') or initial:
            backlog = [{'type': 'ADDED', 'object': o} for o in self.live(res, namespace) if selected(o)]
            if initial:
                backlog.append({'type': 'BOOKMARK', 'object': {
                    'apiVersion': api_version(res), 'kind': self.resources[res].kind,
                    'metadata': {'resourceVersion': str(self.revision),
                                 'annotations': {'k8s.io/initial-events-end': 'true'}}}})
        else:
            try:
                since = int(rv)
            except ValueError:
                raise ApiError(400, 'BadRequest', f'invalid resourceVersion {rv!r}') from None
            if since > self.revision:
                raise ApiError(504, 'Timeout', f'Too large resource version: {since}, current: {self.revision}')
            backlog = [e for (r, kind, new, old) in
                       ((r, k, n, o) for (v, r, k, n, o) in self.log if v > since)
                       if r == res and (e := translate(kind, new, old))]
        queue: asyncio.Queue = asyncio.Queue()
        self.watchers.add(queue)

        response = aiohttp.web.StreamResponse(headers={'Content-Type': 'application/json'})
        await response.prepare(raw)
        timeout = float(q.get('timeoutSeconds') or 1800)
        deadline = time.monotonic() + timeout
        try:
            for event in backlog:
                await response.write(json.dumps(event).encode() + b'\n')
            while not self.closing.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=left)
                except TimeoutError:
                    break
                if item is None:
                    break
                r, kind, new, old = item
                if r == res and (event := translate(kind, new, old)):
                    await response.write(json.dumps(event).encode() + b'\n')
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.watchers.discard(queue)
        return response

    # ---- writes (synchronous: each is atomic with respect to the event loop)

    def publish(self, res, kind: str, new: dict, old: dict | None) -> None:
        self.log.append((self.revision, res, kind, new, old))
        for queue in self.watchers:
            queue.put_nowait((res, kind, new, old))

    def check_identity(self, res, namespace, name, obj) -> None:
        info = self.resources[res]
        if not isinstance(obj, dict):
            raise ApiError(400, 'BadRequest', 'the body is not a JSON object')
        if obj.get('apiVersion') != api_version(res) or obj.get('kind') != info.kind:
            raise ApiError(400, 'BadRequest', f'the body is {obj.get("apiVersion")}/{obj.get("kind")}, '
                                              f'the URL wants {api_version(res)}/{info.kind}')
        meta = obj.setdefault('metadata', {})
        if name is not None and meta.get('name') != name:
            raise ApiError(400, 'BadRequest', f'the name in the body ({meta.get("name")!r}) does not match the URL')
        if info.namespaced:
            if meta.get('namespace', namespace) != namespace:
                raise ApiError(400, 'BadRequest', 'the namespace of the body does not match the URL')
            meta['namespace'] = namespace
        else:
            meta.pop('namespace', None)

    def create(self, res, namespace, obj) -> dict:
        info = self.resources[res]
        meta = obj.setdefault('metadata', {}) if isinstance(obj, dict) else {}
        if not meta.get('name') and meta.get('generateName'):
            meta['name'] = meta['generateName'] + uuid.uuid4().hex[:5]
        name = meta.get('name')
        if not name:
            raise ApiError(422, 'Invalid', 'metadata.name: Required value')
        self.check_identity(res, namespace, None, obj)
        if info.namespaced:
            self.require_namespace(namespace)
        key = (res, namespace, name)
        if key in self.objects and not self.objects[key].deleted:
            raise ApiError(409, 'AlreadyExists', f'{res.plural} "{name}" already exists',
                           {'name': name, 'group': res.group, 'kind': res.plural})
        if 'status' in info.subresources and res != NAMESPACES:
            obj.pop('status', None)
        errors = validate(info.kind, obj)
        if errors:
            raise ApiError(422, 'Invalid', f'{info.kind} "{name}" is invalid: ' + '; '.join(errors))
        self.revision += 1
        meta.update({'uid': str(uuid.uuid4()), 'creationTimestamp': now(),
                     'resourceVersion': str(self.revision), 'generation': 1})
        for server_set in ('deletionTimestamp', 'managedFields'):
            meta.pop(server_set, None)
        if res == NAMESPACES:
            obj['status'] = {'phase': 'Active'}
        if key in self.objects:
            self.objects[key].create(obj)
        else:
            self.objects[key] = obj
        stored = self.objects[key].raw
        self.publish(res, 'ADDED', copy.deepcopy(stored), None)
        if res == CRD:
            self.serve_crd(stored)
        return stored

    def require_namespace(self, namespace) -> None:
        key = (NAMESPACES, None, namespace)
        if key not in self.objects or self.objects[key].deleted:
            raise ApiError(404, 'NotFound', f'namespaces "{namespace}" not found',
                           {'name': namespace, 'kind': 'namespaces'})
        if self.objects[key].raw['metadata'].get('deletionTimestamp'):
            raise ApiError(403, 'Forbidden', f'namespace {namespace} is being terminated')

    def serve_crd(self, crd: dict) -> None:
        spec = crd['spec']
        for version in spec['versions']:
            if version.get('served'):
                subresources = set((version.get('subresources') or {}).keys())
                self.serve(kmock.resource(spec['group'], version['name'], spec['names']['plural']),
                           spec['names']['kind'], spec['scope'] == 'Namespaced', subresources)

    def update(self, res, namespace, name, sub, change) -> dict:
        """Applies `change` (old object -> new object) under the API server's rules."""
        info = self.resources[res]
        stored = self.get(res, namespace, name)
        old = copy.deepcopy(stored.raw)
        new = change(copy.deepcopy(old))
        self.check_identity(res, namespace, name, new)
        meta, old_meta = new['metadata'], old['metadata']
        # The optimistic-concurrency precondition: a resourceVersion in the body must be current.
        wanted_rv = meta.get('resourceVersion')
        if wanted_rv and wanted_rv != old_meta['resourceVersion']:
            raise ApiError(409, 'Conflict', f'Operation cannot be fulfilled on {res.plural} "{name}": '
                                            'the object has been modified; please apply your changes to the latest version')
        if sub == 'status':
            status = new.get('status')
            new = {k: copy.deepcopy(v) for k, v in old.items() if k != 'status'}
            if status is not None:
                new['status'] = status
            meta = new['metadata']
        elif 'status' in info.subresources:
            new.pop('status', None)
            if 'status' in old:
                new['status'] = old['status']
        for server_set in ('uid', 'creationTimestamp', 'deletionTimestamp', 'generation'):
            if server_set in old_meta:
                meta[server_set] = old_meta[server_set]
            else:
                meta.pop(server_set, None)
        if sub is None:
            errors = validate(info.kind, new)
            if errors:
                raise ApiError(422, 'Invalid', f'{info.kind} "{name}" is invalid: ' + '; '.join(errors))
        meta['resourceVersion'] = old_meta['resourceVersion']
        if new == old:
            return old  # a no-op write does not change the resourceVersion
        body = lambda o: {k: v for k, v in o.items() if k not in ('metadata', 'status')}  # noqa: E731
        if body(new) != body(old):
            meta['generation'] = old_meta.get('generation', 0) + 1
        self.revision += 1
        meta['resourceVersion'] = str(self.revision)
        key = (res, namespace, name)
        if meta.get('deletionTimestamp') and not meta.get('finalizers'):
            self.objects[key].delete()
            self.publish(res, 'DELETED', new, old)
            return new
        self.objects[key].create(new)  # a new version in kmock's history
        self.publish(res, 'MODIFIED', copy.deepcopy(new), old)
        return new

    def patch(self, res, namespace, name, sub, content_type, body: bytes, q) -> dict:
        data = load(body)
        if content_type == 'application/apply-patch+yaml':
            if not q.get('fieldManager'):
                raise ApiError(400, 'BadRequest', 'PATCH requests with apply-patch must set fieldManager')
            key = (res, namespace, name)
            if sub is None and (key not in self.objects or self.objects[key].deleted):
                self.check_identity(res, namespace, name, data)
                return self.create(res, namespace, data)
            return self.update(res, namespace, name, sub, lambda old: merge(old, data, drop_nulls=False))
        if content_type in ('application/merge-patch+json', 'application/strategic-merge-patch+json'):
            if content_type.startswith('application/strategic') and res.group.endswith('govcloud.io'):
                raise ApiError(415, 'UnsupportedMediaType', 'strategic merge patch is not supported for custom resources')
            if not isinstance(data, dict):
                raise ApiError(400, 'BadRequest', 'a merge patch must be a JSON object')
            return self.update(res, namespace, name, sub, lambda old: merge(old, data, drop_nulls=True))
        if content_type == 'application/json-patch+json':
            def apply_json_patch(old):
                try:
                    return jsonpatch.apply_patch(old, kubernetes_json_patch(old, data))
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
                    raise ApiError(422, 'Invalid', f'the JSON patch failed: {e}') from None
            return self.update(res, namespace, name, sub, apply_json_patch)
        raise ApiError(415, 'UnsupportedMediaType', f'the body of type {content_type!r} is not supported')

    def delete(self, res, namespace, name) -> dict:
        stored = self.get(res, namespace, name)
        old = copy.deepcopy(stored.raw)
        if old['metadata'].get('deletionTimestamp'):
            return old
        if res == NAMESPACES:
            for (r, ns, n), obj in list(self.objects.items()):
                if ns == name and not obj.deleted:
                    self.delete(r, ns, n)
        if old['metadata'].get('finalizers'):
            return self.mark_deleted(res, namespace, name, old)
        self.revision += 1
        gone = copy.deepcopy(old)
        gone['metadata']['resourceVersion'] = str(self.revision)
        stored.delete()
        self.publish(res, 'DELETED', gone, old)
        return gone

    def mark_deleted(self, res, namespace, name, old) -> dict:
        self.revision += 1
        new = copy.deepcopy(old)
        new['metadata'].update({'deletionTimestamp': now(), 'resourceVersion': str(self.revision)})
        self.objects[(res, namespace, name)].create(new)
        self.publish(res, 'MODIFIED', copy.deepcopy(new), old)
        return new

    def close_watches(self) -> None:
        self.closing.set()
        for queue in self.watchers:
            queue.put_nowait(None)


def kubernetes_json_patch(doc: Any, ops: Any) -> Any:
    """The API server's JSON patch (evanphx/json-patch) lets `test` compare a missing
    member with null, which is how a client asserts "no finalizers yet"; RFC 6902 (and
    the jsonpatch package) call that a failed test. Such tests are dropped when the
    member is indeed missing."""
    if not isinstance(ops, list):
        return ops
    def missing(path: str) -> bool:
        try:
            jsonpatch.JsonPointer(path).resolve(doc)
            return False
        except jsonpatch.JsonPointerException:
            return True
    return [op for op in ops
            if not (isinstance(op, dict) and op.get('op') == 'test' and op.get('value') is None
                    and missing(op.get('path', '')))]


def load(body: bytes) -> Any:
    try:
        return json.loads(body or b'null')
    except ValueError as e:
        raise ApiError(400, 'BadRequest', f'the body is not JSON: {e}') from None


def reply(obj: dict, status: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.json_response(obj, status=status)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('port', nargs='?', type=int, default=0, help='TCP port on 127.0.0.1 (0 picks one)')
    parser.add_argument('--audit', metavar='FILE',
                        help='append one JSON line per object API request: its RBAC verb and resource')
    args = parser.parse_args()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async with ApiServer() as api, kmock.Server(api, host='127.0.0.1', port=args.port or None) as server:
        if args.audit:
            api.audit = open(args.audit, 'a', encoding='utf-8')
        print(server.port, flush=True)
        await stop.wait()
        api.close_watches()
    print('apiserver: stopped', file=sys.stderr, flush=True)


if __name__ == '__main__':
    asyncio.run(main())
