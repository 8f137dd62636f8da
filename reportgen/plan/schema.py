"""The JSON Schema of a report definition, built from the registries.

The document's own models give the frame; every registered renderer, delivery channel and
source kind (built-in or plugin) adds the schema of its options, so an editor completes
and checks a plugin's section exactly as the loader does.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from reportgen.definition.document import Definition
from reportgen.plan.checks import DELIVERY_KEYS, OUTPUT_KEYS, options_of

_REF = "#/$defs/{model}"


def _options(model: type[BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    """``model``'s schema, its nested definitions moved into ``defs``."""
    schema = model.model_json_schema(ref_template=_REF)
    defs.update(schema.pop("$defs", {}))
    return schema


def definition_schema() -> dict[str, Any]:
    """JSON Schema of a report definition (for editors and CI checks)."""
    from reportgen.data.connectors import SOURCES
    from reportgen.delivery.channels import CHANNELS
    from reportgen.render import RENDERERS

    schema = Definition.model_json_schema(ref_template=_REF)
    defs: dict[str, Any] = schema.setdefault("$defs", {})

    output = defs["OutputSpec"]
    variants = []
    for name, renderer in RENDERERS.items():
        options = _options(options_of(renderer), defs)
        variants.append({
            "title": f"{name} output", "description": options.get("description", ""),
            "type": "object", "additionalProperties": False, "required": ["format"],
            "properties": {**{k: output["properties"][k] for k in OUTPUT_KEYS},
                           "format": {"const": name, "description": output["properties"]
                                      ["format"]["description"]},
                           **options.get("properties", {})}})
    defs["OutputSpec"] = {"title": "OutputSpec", "description": output.get("description", ""),
                          "oneOf": variants}

    delivery = defs["DeliverySpec"]
    delivery["properties"] = {k: delivery["properties"][k] for k in DELIVERY_KEYS}
    for name, channel in CHANNELS.items():
        options = _options(options_of(channel), defs)
        delivery["properties"][name] = {"anyOf": [options, {"type": "null"}], "default": None}
    delivery["additionalProperties"] = False

    source = defs["SourceSpec"]
    source["properties"]["kind"]["enum"] = SOURCES.names()
    source["allOf"] = [
        {"if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
         "then": {"properties": {"options": _options(options_of(connector), defs)}}}
        for name, connector in SOURCES.items()]

    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "reportgen report definition"
    plain: dict[str, Any] = json.loads(json.dumps(schema))
    return plain
