#!/usr/bin/env python3
"""Writes the hashicorp/aws and hashicorp/random provider schemas to target/provider-schemas/<name>.json,
in the shape of `terraform providers schema -json` (attributes required/optional/computed, block types
with their nesting), for the offline validation in tests/infra_contract.rs.

No provider can be downloaded here, but the prebuilt CDK-for-Terraform bindings on npm are generated
from the provider's schema and carry all of it: each resource's JavaScript lists its arguments with
`isBlock` and the nested block's converter, its getters name every readable attribute, and the jsii
assembly says which arguments are required. The packages are pinned below (each names the provider
version it was generated from) and fetched once with `npm pack` into target/provider-schemas/.
"""
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

PACKAGES = {
    # package version -> provider version it binds (package.json "cdktf.provider")
    "aws": ("@cdktf/provider-aws", "21.22.1", "registry.terraform.io/hashicorp/aws", "6.25.0"),
    "random": ("@cdktf/provider-random", "12.0.1", "registry.terraform.io/hashicorp/random", "3.7.2"),
}

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "provider-schemas"

ENTRY = re.compile(
    r'^\s+(\w+): \{\n\s+value: (.*),\n\s+isBlock: (true|false),\n\s+type: "(\w+)",\n\s+storageClassType: "(\w+)",\n\s+\},',
    re.M,
)
CONVERTER = re.compile(r"\b(\w+)ToHclTerraform\b")
JS_FIELD = re.compile(r"(?:struct\??\.|this\._)(\w+)")
READABLE = re.compile(
    r"""(?:get\w*Attribute|interpolationForAttribute)\(['"]([a-z0-9_]+)['"]\)"""
    r"""|new \w+(?:OutputReference|List|Map)\(this, ["']([a-z0-9_]+)["']"""
)


def fetch(package: str, version: str) -> Path:
    """The unpacked package in target/provider-schemas/<package>-<version>/, packed once."""
    dest = OUT / f"{package.split('/')[-1]}-{version}"
    if (dest / "package" / ".jsii").exists():
        return dest / "package"
    dest.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", "--silent", f"{package}@{version}"], cwd=dest, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    with tarfile.open(dest / out) as tar:
        tar.extractall(dest, filter="data")
    (dest / out).unlink()
    return dest / "package"


def function_attrs(js: str, name: str) -> str:
    """The `const attrs = {...}` body of a converter function or of synthesizeHclAttributes (every one
    ends by filtering out undefined attributes; an empty block has `const attrs = {}`)."""
    start = js.index(name)
    ends = [js.find(mark, start + 1) for mark in ("return Object.fromEntries", "\nfunction ", "\nclass ")]
    return js[start:min((e for e in ends if e != -1), default=len(js))]


def block(js: str, attrs_src: str, struct: dict, structs: dict) -> dict:
    attributes, block_types = {}, {}
    for name, value, is_block, kind, _storage in ENTRY.findall(attrs_src):
        field = JS_FIELD.search(value)
        prop = struct.get(field.group(1)) if field else None
        required = prop is not None and not prop.get("optional", False)
        if is_block == "true":
            conv = CONVERTER.search(value)
            if conv is None: raise SystemExit(f"{name}: {value[:300]}")
            conv = conv.group(1)
            nested_name = conv[0].upper() + conv[1:]
            nested = structs.get(nested_name, {})
            nested_src = function_attrs(js, f"function {conv}ToHclTerraform(")
            entry = {"nesting_mode": "single" if kind == "struct" else kind, "block": block(js, nested_src, nested, structs)}
            if required:
                entry["min_items"] = 1
            block_types[name] = entry
        else:
            attributes[name] = {"required": True} if required else {"optional": True}
    return {"attributes": attributes, "block_types": block_types}


def schema(package_dir: Path, provider: str) -> dict:
    jsii = json.loads((package_dir / ".jsii").read_text())
    structs = {}
    for fqn, t in jsii["types"].items():
        if t.get("kind") == "interface" and t.get("datatype"):
            structs[t["name"]] = {p["name"]: p for p in t.get("properties", [])}
    out = {"provider": None, "resource_schemas": {}, "data_source_schemas": {}}
    for index in sorted((package_dir / "lib").glob("*/index.js")):
        # Large resources keep their nested blocks' converters in index-structs/*.js.
        js = "\n".join(f.read_text() for f in [index, *sorted(index.parent.glob("index-structs/*.js"))])
        m = re.search(r"^class (\w+) extends cdktf\.(TerraformResource|TerraformDataSource|TerraformProvider) \{", js, re.M)
        if not m:
            continue
        cls, kind = m.group(1), m.group(2)
        body = js[m.start():]
        tf_type = re.search(rf'^{cls}\.tfResourceType = "(\w+)";', js, re.M).group(1)
        b = block(js, function_attrs(body, "synthesizeHclAttributes()"), structs.get(f"{cls}Config", {}), structs)
        for name in {a or b2 for a, b2 in READABLE.findall(body)} - set(b["attributes"]) - set(b["block_types"]):
            b["attributes"][name] = {"computed": True}
        if kind == "TerraformProvider":
            out["provider"] = {"block": b}
        elif kind == "TerraformResource":
            out["resource_schemas"][tf_type] = {"block": b}
        else:
            out["data_source_schemas"][tf_type] = {"block": b}
    return {"format_version": "1.0", "provider_schemas": {provider: out}}


def main() -> None:
    for name, (package, version, provider, provider_version) in PACKAGES.items():
        target = OUT / f"{name}.json"
        stamp = f"{package}@{version} ({provider} {provider_version})"
        if target.exists() and json.loads(target.read_text()).get("generated_from") == stamp:
            continue
        doc = schema(fetch(package, version), provider)
        doc["generated_from"] = stamp
        target.write_text(json.dumps(doc, sort_keys=True))
        counts = doc["provider_schemas"][provider]
        print(f"provider-schemas: {name}.json from {stamp}: {len(counts['resource_schemas'])} resources, "
              f"{len(counts['data_source_schemas'])} data sources", file=sys.stderr)


if __name__ == "__main__":
    main()
