"""Strict validation of Kubernetes objects against the API models of Debian's
python3-kubernetes (22.6, the Kubernetes 1.22 API), for manifests that no API
server checks here.

    errors = api_schema.validate(obj)   # [] when the object is valid

Each model class lists its fields (`attribute_map`: attribute -> JSON key) and
their types (`openapi_types`: 'str', 'int', 'bool', 'list[X]',
'dict(str, X)', 'object', another model's name). validate() walks the object
by them and reports every key the model does not have and every value of the
wrong type, by path ("spec.template.spec.containers[0].ports[0]"). The client
does neither: its deserializer drops unknown keys and takes any type. The
models' required fields (a container's name) are checked by deserializing the
object with the client, whose setters refuse a missing one.

What the 1.22 models lack is described here, minimally, for exactly what the
manifests use: the Probe `grpc` field (Kubernetes 1.24) and the Prometheus
Operator's kinds (monitoring.coreos.com/v1). A new field of either fails
until it is added below.
"""
import json

import kubernetes.client

# (apiVersion, kind) -> the model class of the objects the manifests hold.
MODELS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "PersistentVolume"): "V1PersistentVolume",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("v1", "Secret"): "V1Secret",
    ("v1", "Service"): "V1Service",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("batch/v1", "Job"): "V1Job",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
}

# Fields newer than the models: {model: {JSON key: type}}.
NEWER_FIELDS = {
    # GRPCAction, Kubernetes 1.24 (beta), 1.27 (GA).
    "V1Probe": {"grpc": {"port": "int", "service": "str"}},
}

# The Prometheus Operator's kinds, as far as the manifests use them. A dict is
# an object with those keys, [X] a list of X; strings are the models' types.
_METADATA = "V1ObjectMeta"
_LABEL_SELECTOR = "V1LabelSelector"
_RELABELING = {
    "sourceLabels": "list[str]",
    "separator": "str",
    "targetLabel": "str",
    "regex": "str",
    "replacement": "str",
    "action": "str",
}
_ENDPOINT = {
    "port": "str",
    "path": "str",
    "interval": "str",
    "honorLabels": "bool",
    "relabelings": [_RELABELING],
}
_NAMESPACE_SELECTOR = {"matchNames": "list[str]", "any": "bool"}
_RULE = {
    "alert": "str",
    "record": "str",
    "expr": "str",
    "for": "str",
    "labels": "dict(str, str)",
    "annotations": "dict(str, str)",
}
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "spec": {
            "selector": _LABEL_SELECTOR,
            "namespaceSelector": _NAMESPACE_SELECTOR,
            "endpoints": [_ENDPOINT],
        },
    },
    ("monitoring.coreos.com/v1", "PodMonitor"): {
        "spec": {
            "selector": _LABEL_SELECTOR,
            "namespaceSelector": _NAMESPACE_SELECTOR,
            "podMetricsEndpoints": [_ENDPOINT],
        },
    },
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "spec": {
            "groups": [{"name": "str", "interval": "str", "rules": [_RULE]}],
        },
    },
}


def validate(obj):
    """Every problem of `obj` (a parsed manifest), as "Kind name: path: what"."""
    if not isinstance(obj, dict):
        return ["not an object: %r" % (obj,)]
    key = (obj.get("apiVersion"), obj.get("kind"))
    where = "%s %s" % (key[1], (obj.get("metadata") or {}).get("name", "?"))
    errors = []
    if key in MODELS:
        _check(obj, MODELS[key], "", errors)
        if not errors:
            errors += _required_fields(obj, MODELS[key])
    elif key in CUSTOM_KINDS:
        schema = dict(CUSTOM_KINDS[key], apiVersion="str", kind="str", metadata=_METADATA)
        _check(obj, schema, "", errors)
    else:
        errors.append("apiVersion %s kind %s: not a kind these checks know" % key)
    return ["%s: %s" % (where, e) for e in errors]


def _fields(model):
    cls = getattr(kubernetes.client, model)
    fields = {json_key: cls.openapi_types[attr] for attr, json_key in cls.attribute_map.items()}
    fields.update(NEWER_FIELDS.get(model, {}))
    return fields


def _check(value, typ, path, errors):
    where = path or "(top)"
    if value is None:
        errors.append("%s: null, expected %s" % (where, _describe(typ)))
    elif isinstance(typ, dict):
        _check_object(value, typ, path, errors)
    elif isinstance(typ, list):
        _check_list(value, typ[0], path, errors)
    elif typ.startswith("list["):
        _check_list(value, typ[len("list["):-1], path, errors)
    elif typ.startswith("dict(str, "):
        if not isinstance(value, dict):
            errors.append("%s: got %s, expected a map" % (where, _kind(value)))
            return
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append("%s: key %r is not a string" % (where, k))
            _check(v, typ[len("dict(str, "):-1], "%s[%s]" % (path, k), errors)
    elif typ in _PRIMITIVES:
        if not _PRIMITIVES[typ](value):
            errors.append("%s: got %s %r, expected %s" % (where, _kind(value), value, typ))
    else:
        _check_object(value, _fields(typ), path, errors, model=typ)


def _check_object(value, fields, path, errors, model=None):
    if not isinstance(value, dict):
        errors.append("%s: got %s, expected an object%s" % (
            path or "(top)", _kind(value), " (%s)" % model if model else ""))
        return
    for k, v in value.items():
        child = "%s.%s" % (path, k) if path else k
        if k not in fields:
            errors.append("%s: unknown field%s; known: %s" % (
                child, " of %s" % model if model else "", ", ".join(sorted(fields))))
        else:
            _check(v, fields[k], child, errors)


def _check_list(value, item_type, path, errors):
    if not isinstance(value, list):
        errors.append("%s: got %s, expected a list" % (path or "(top)", _kind(value)))
        return
    for i, item in enumerate(value):
        _check(item, item_type, "%s[%d]" % (path, i), errors)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


_PRIMITIVES = {
    "str": lambda v: isinstance(v, str),
    "int": _is_int,
    "bool": lambda v: isinstance(v, bool),
    "float": lambda v: _is_int(v) or isinstance(v, float),
    # In the objects these checks know, 'object' is IntOrString (ports of
    # probes, NetworkPolicies, PodDisruptionBudgets, Service targetPorts).
    "object": lambda v: _is_int(v) or isinstance(v, str),
    "datetime": lambda v: isinstance(v, str),
}


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a bool",
            int: "an int", float: "a float"}.get(type(value), type(value).__name__)


def _describe(typ):
    return "an object" if isinstance(typ, dict) else "a list" if isinstance(typ, list) else typ


class _Response:
    """What ApiClient.deserialize reads: an HTTP body in `.data`."""

    def __init__(self, obj):
        self.data = json.dumps(obj)


def _required_fields(obj, model):
    try:
        kubernetes.client.ApiClient().deserialize(_Response(obj), model)
    except ValueError as e:
        return ["a required field is missing: %s" % e]
    return []
