"""`make helm-fixtures CHARTS=<checkout of RasaHQ/helm-charts>`: renders deploy/helm/*-values.yaml with Rasa's charts.

Rasa's charts come from helm.rasa.com, which is not reachable from here, so
the tests cannot render them; this script renders them where the charts are
at hand (a checkout of RasaHQ/helm-charts; nothing of it is copied into this
repository) and writes the manifests to tests/fixtures/helm/, which
tests/test_helm_manifests.py checks. Like `helm template`, it validates the
values against the chart's values.schema.json first, then renders offline with
Helm's own engine (helm-python-sdk, requirements/helm-render.txt; no helm
binary, no cluster). The Bitnami PostgreSQL and Redis subcharts are not
rendered (they come from Bitnami's registry); the rasa-common library chart is
taken from the same checkout.
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import yaml
from helm_python import Chart

ROOT = Path(__file__).resolve().parent.parent
RELEASES = {  # fixture: (chart, values file, release name)
    "rasa": ("rasa", "deploy/helm/rasa-values.yaml", "cps"),
    "actions": ("rasa-action-server", "deploy/helm/actions-values.yaml", "cps-actions"),
}
NAMESPACE = "cps"


def render(charts: Path, chart_name: str, values_file: Path, release: str) -> str:
    with tempfile.TemporaryDirectory() as directory:
        chart_dir = Path(directory) / chart_name
        shutil.copytree(charts / "charts" / chart_name, chart_dir)
        shutil.copytree(charts / "charts" / "rasa-common", chart_dir / "charts" / "rasa-common")
        values = yaml.safe_load(values_file.read_text())
        with Chart.load(str(chart_dir)) as chart:
            chart.validate_schema(values)
            manifests = chart.render(values=values, name=release, namespace=NAMESPACE, is_install=True)
            version = chart.metadata["version"]
    digest = hashlib.sha256(values_file.read_bytes()).hexdigest()
    header = (f"# helm template {release} rasa/{chart_name} --version {version} --namespace {NAMESPACE} "
              f"-f {values_file.relative_to(ROOT)}\n"
              f"# Rendered by scripts/render_helm.py (make helm-fixtures) after validating the values against the "
              f"chart's values.schema.json.\n# values sha256: {digest}\n")
    parts = [f"# Source: {path}\n{text.strip()}" for path, text in sorted(manifests.items())
             if text.strip() and not path.endswith("NOTES.txt")]
    return header + "---\n" + "\n---\n".join(parts) + "\n"


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/render_helm.py <checkout of RasaHQ/helm-charts>")
    charts = Path(sys.argv[1])
    for fixture, (chart_name, values, release) in RELEASES.items():
        target = ROOT / "tests" / "fixtures" / "helm" / f"{fixture}.yaml"
        target.write_text(render(charts, chart_name, ROOT / values, release))
        print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
