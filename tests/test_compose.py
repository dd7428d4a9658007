"""Deployment files: docker-compose.gpu.yml checked by a real compose implementation, the
Dockerfile's base image, and prefect.yaml's entrypoints loaded by Prefect itself."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPOSE = os.path.join(ROOT, "docker-compose.gpu.yml")


def _compose_cmd() -> list[str]:
    """Debian's docker-compose (make test installs it; it validates without an engine)."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("docker-compose is not installed (apt-get install docker-compose; `make test` does)")


def _config(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWER_", "GPU_"))}
    env.update(extra_env)
    return subprocess.run(_compose_cmd() + ["-f", COMPOSE, "config"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_compose_config_is_valid_and_complete():
    out = _config({"FLOWER_PASSWORD": "s3cret", "GPU_T4": "0", "GPU_A10G": "1"})
    assert out.returncode == 0, out.stderr
    cfg = yaml.safe_load(out.stdout)
    services = cfg["services"]
    for name in ("redis", "s3", "postgres", "prefect-server", "prefect-worker", "flower", "worker-t4",
                 "worker-a10g"):
        assert name in services, name
    for name, gpu, device in (("worker-t4", "t4", "0"), ("worker-a10g", "a10g", "1")):
        svc = services[name]
        assert svc["command"][-4:] == ["--gpu", gpu, "--concurrency", "1"]
        (dev,) = svc["deploy"]["resources"]["reservations"]["devices"]
        assert dev["driver"] == "nvidia" and dev["capabilities"] == ["gpu"] and dev["device_ids"] == [device]
        assert svc["environment"]["CAPTIONACC_REDIS_URL"] == "redis://redis:6379/0"
        assert svc["environment"]["S3_ENDPOINT_URL"] == "http://s3:8333"
    flower = services["flower"]
    assert flower["environment"]["FLOWER_BASIC_AUTH"] == "admin:s3cret"
    assert "workers.celery_app" in flower["command"]
    assert services["prefect-worker"]["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"


def test_compose_refuses_flower_without_a_password():
    out = _config({})
    assert out.returncode != 0
    assert "FLOWER_PASSWORD" in out.stderr


def test_dockerfile_uses_a_cuda_base_image():
    with open(os.path.join(ROOT, "deploy", "Dockerfile")) as f:
        froms = [line.split()[1] for line in f if line.startswith("FROM ")]
    assert froms and all(img.startswith("nvidia/cuda:") for img in froms)


def test_prefect_yaml_deploys_every_flow():
    from prefect.flows import load_flow_from_entrypoint

    with open(os.path.join(ROOT, "prefect.yaml")) as f:
        cfg = yaml.safe_load(f)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        names = {d["name"]: load_flow_from_entrypoint(d["entrypoint"]).name for d in cfg["deployments"]}
    finally:
        os.chdir(cwd)
    assert names == {n: n for n in ("captionacc-video-initial-processing",
                                    "captionacc-crop-and-infer-caption-frame-extents",
                                    "captionacc-caption-ocr", "captionacc-process-video")}
    assert all(d["work_pool"]["name"] == "captionacc" for d in cfg["deployments"])


def test_flower_config_requires_basic_auth(monkeypatch):
    path = os.path.join(ROOT, "deploy", "flowerconfig.py")
    src = open(path).read()
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    with pytest.raises(SystemExit):
        exec(compile(src, path, "exec"), {})
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "u:p")
    ns: dict = {}
    exec(compile(src, path, "exec"), ns)
    assert ns["basic_auth"] == ["u:p"]


def test_compose_starts_on_a_one_gpu_box_with_health_everywhere():
    """No GPU_* set: both workers on device 0 (a one-GPU box starts as is); every long-running
    service has a healthcheck and waits for what it needs to be healthy; no unused volumes."""
    out = _config({"FLOWER_PASSWORD": "s3cret"})
    assert out.returncode == 0, out.stderr
    cfg = yaml.safe_load(out.stdout)
    services = cfg["services"]
    for name in ("worker-t4", "worker-a10g"):
        (dev,) = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert dev["device_ids"] == ["0"], name
        assert services[name]["environment"]["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility,video"
    for name, svc in services.items():
        if svc.get("restart") != "no":
            assert "healthcheck" in svc, f"{name} has no healthcheck"
        for dep, cond in (svc.get("depends_on") or {}).items():
            want = "service_completed_successfully" if services[dep].get("restart") == "no" else "service_healthy"
            assert cond["condition"] == want, f"{name} waits for {dep} only to be {cond['condition']}"
    used = {v.split(":")[0] for svc in services.values() for v in svc.get("volumes", [])
            if isinstance(v, str)} | {v["source"] for svc in services.values() for v in svc.get("volumes", [])
                                      if isinstance(v, dict)}
    assert set(cfg.get("volumes", {})) <= used
    worker = services["prefect-worker"]
    assert worker["command"][:2] == ["sh", "-ec"]  # a failed deploy stops the container
    assert worker["environment"]["CAPTIONACC_APP_DIR"] == "/app"


def test_dockerfile_python_and_the_modal_image_ship_the_same_files():
    from workers.modal_app import SHIPPED

    with open(os.path.join(ROOT, "deploy", "Dockerfile")) as f:
        lines = f.read().splitlines()
    copied = {src.rstrip("*") for line in lines if line.startswith("COPY ") for src in line.split()[1:-1]}
    assert copied == set(SHIPPED)
    # Ubuntu 24.04's Python 3.12: prefect 3.9, numpy 2.4 and onnxruntime 1.32 need >= 3.11.
    assert any(line.startswith("FROM ") and "ubuntu24.04" in line for line in lines)
    assert "NVIDIA_DRIVER_CAPABILITIES=compute,utility,video" in "\n".join(lines)
    # One set of versions: make install, the image and Modal all install with deploy/constraints.txt.
    assert "RUN pip install -c deploy/constraints.txt ." in lines
    with open(os.path.join(ROOT, "Makefile")) as f:
        assert "-c deploy/constraints.txt -e '.[dev]'" in f.read()
    with open(os.path.join(ROOT, "workers", "modal_app.py")) as f:
        assert "pip install -c /opt/captionacc/deploy/constraints.txt /opt/captionacc" in f.read()
    import importlib.metadata as md

    with open(os.path.join(ROOT, "deploy", "constraints.txt")) as f:
        pins = dict(line.strip().split("==", 1) for line in f if "==" in line and not line.startswith("#"))
    for pkg in ("celery", "prefect", "numpy", "av", "onnxruntime"):  # this environment is the pinned one
        assert md.version(pkg).split("+")[0] == pins[pkg], pkg
