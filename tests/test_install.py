"""Out of tree, as a new user installs the app: wheel and sdist from a clean clone, a fresh virtualenv,
``django-admin startproject``, the steps of docs/install.md, gunicorn, then every admin and API page.

The steps are read from the page: a fenced block right after ``<!-- install: ACTION [FILE] -->`` is one
step (``run``: shell commands in the project folder; ``append FILE``: text added to the project's
``settings.py`` or ``urls.py``; ``superuser``: the interactive command, run with ``--noinput``). So the page
cannot drift from what works. The build uses the committed tree (``git clone``): commit before running it.

Slow (a build, a virtualenv, a server: one to two minutes), so it runs only with
``CORS_POLICIES_INSTALL_TEST=1``; noxfile.py sets it in one session per Django series, and
``CORS_POLICIES_INSTALL_DJANGO`` (default: the series of the Django running the test) picks the series.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALL_PAGE = ROOT / "docs" / "install.md"
STEP = re.compile(r"<!-- install: (?P<action>[a-z]+)(?: (?P<target>\S+))? -->\n```[a-z]*\n(?P<body>.*?)\n```", re.S)
ACTIONS = {"run", "append", "superuser"}
SERIES = os.environ.get("CORS_POLICIES_INSTALL_DJANGO") or ".".join(django.get_version().split(".")[:2])
PASSWORD = "install-test-Pa55word"
APP_ORIGIN = "https://app.example.com"
EVIL_ORIGIN = "https://evil.example.net"

slow = pytest.mark.skipif(
    os.environ.get("CORS_POLICIES_INSTALL_TEST") != "1",
    reason="out-of-tree install test (builds, installs and serves the wheel, 1-2 min): set "
    "CORS_POLICIES_INSTALL_TEST=1 to run it (CI does, once per Django series, through nox)",
)


@dataclass
class Step:
    action: str
    target: str | None
    body: str


def install_steps(text: str) -> list[Step]:
    return [Step(m["action"], m["target"], m["body"]) for m in STEP.finditer(text)]


# --------------------------------------------------------------------------------------------------
# The page's convention (fast: runs everywhere)
# --------------------------------------------------------------------------------------------------


def test_install_page_steps_follow_the_convention() -> None:
    text = INSTALL_PAGE.read_text()
    steps = install_steps(text)
    assert text.count("<!-- install:") == len(steps), "a marker not followed by a fenced block"
    assert {step.action for step in steps} <= ACTIONS
    assert all(step.target in ("settings.py", "urls.py") for step in steps if step.action == "append")
    commands = [line for step in steps if step.action == "run" for line in step.body.splitlines()]
    assert commands[0] == "python -m pip install cors-policies"
    assert "python manage.py migrate" in commands
    assert "python manage.py check" in commands
    assert "cors_policies.middleware.CorsPolicyMiddleware" in "".join(
        s.body for s in steps if s.target == "settings.py"
    )
    for version in ("4.2", "5.2", "6.0", "6.1"):  # the supported versions are listed
        assert f"| {version} |" in text


# --------------------------------------------------------------------------------------------------
# The build and the archives
# --------------------------------------------------------------------------------------------------


def run(command: list[str] | str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        shell=isinstance(command, str),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{output[-6000:]}"
    return output


@dataclass
class Build:
    source: Path
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    work = tmp_path_factory.mktemp("build")
    source = work / "clone"
    run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(source)], work)
    run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)], work)
    (wheel,) = (work / "dist").glob("*.whl")
    (sdist,) = (work / "dist").glob("*.tar.gz")
    run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], work)
    return Build(source, wheel, sdist)


def package_files(source: Path) -> set[str]:
    """Every file of the package folder in the clean clone (what git tracks), as ``cors_policies/...``."""
    listed = run(["git", "ls-files", "cors_policies"], source).split()
    return {name for name in listed if "__pycache__" not in name}


@slow
def test_archives_hold_every_file_of_the_package(build: Build) -> None:
    wanted = package_files(build.source)
    assert "cors_policies/py.typed" in wanted
    assert "cors_policies/static/cors_policies/admin.css" in wanted
    assert any(name.startswith("cors_policies/templates/") for name in wanted)
    assert any(name.startswith("cors_policies/migrations/0001") for name in wanted)
    with zipfile.ZipFile(build.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert wanted <= names, sorted(wanted - names)
    assert {n for n in names if n.startswith("cors_policies/")} == wanted  # and nothing else
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: BSD-3-Clause" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    assert f"Classifier: Framework :: Django :: {SERIES}" in metadata
    with tarfile.open(build.sdist) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        members = {name.removeprefix(f"{top}/") for name in sdist.getnames()}
    assert wanted <= members, sorted(wanted - members)
    assert {"LICENSE", "pyproject.toml", "README.md"} <= members


# --------------------------------------------------------------------------------------------------
# A new project, the documented steps, gunicorn
# --------------------------------------------------------------------------------------------------


@dataclass
class Project:
    folder: Path
    python: Path
    env: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)
    token: str = ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def project(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Project:
    work = tmp_path_factory.mktemp("project")
    venv = work / "venv"
    # The interpreter the virtualenv is made from: this one's base, not the repository's venv.
    run([sys.executable, "-m", "venv", str(venv)], work)
    bin_dir = venv / "bin"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV", "DATABASE_URL")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv), PYTHONNOUSERSITE="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    python = bin_dir / "python"
    run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], work, env)
    # A project pins its Django (the newest DRF needs 5.2, so pip would otherwise upgrade a 4.2 project's).
    constraints = work / "constraints.txt"
    constraints.write_text(f"django~={SERIES}.0\n")
    env["PIP_CONSTRAINT"] = str(constraints)
    run([str(python), "-m", "pip", "install", "--quiet", "django", "gunicorn"], work, env)
    folder = work / "site"
    folder.mkdir()
    run([str(bin_dir / "django-admin"), "startproject", "mysite", str(folder)], work, env)
    project = Project(folder, python, env)
    files = {"settings.py": folder / "mysite" / "settings.py", "urls.py": folder / "mysite" / "urls.py"}
    for step in install_steps(INSTALL_PAGE.read_text()):
        if step.action == "append":
            with files[step.target or ""].open("a") as handle:
                handle.write("\n" + step.body + "\n")
        elif step.action == "superuser":
            superuser = {
                **env,
                "DJANGO_SUPERUSER_USERNAME": "admin",
                "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
                "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
            }
            run(f"{step.body.strip()} --noinput", folder, superuser)
        else:
            for line in step.body.splitlines():
                line = line.split(" #")[0].strip()
                if not line:
                    continue
                if line.startswith("python -m pip install"):  # the package is the wheel just built
                    line = line.replace("cors-policies", shlex.quote(str(build.wheel)))
                project.outputs[line] = run(line, folder, env)
    token = re.search(r"Generated token (\w+) for user admin", "".join(project.outputs.values()))
    assert token, "drf_create_token printed no token"
    project.token = token[1]
    # Not an install step: one page of the project's own, for the cross-origin requests.
    with files["urls.py"].open("a") as handle:
        handle.write(
            "\nfrom django.http import HttpResponse\n\n"
            'urlpatterns += [path("hello/", lambda request: HttpResponse("hello"))]\n'
        )
    return project


@slow
def test_the_app_comes_from_the_wheel_not_a_source_tree(project: Project) -> None:
    where = run(
        [str(project.python), "-c", "import cors_policies; print(cors_policies.__file__)"], project.folder, project.env
    )
    assert "site-packages" in where
    assert str(ROOT) not in where
    version = run([str(project.python), "-m", "django", "--version"], project.folder, project.env)
    assert version.startswith(f"{SERIES}.")


@slow
def test_checks_migrations_and_static_files(project: Project) -> None:
    manage = [str(project.python), "manage.py"]
    # A new project fails --deploy on its own account (DEBUG, SECRET_KEY, Django 6.1's console email
    # backend): only the app's and drf-spectacular's messages matter here, and none may be an error.
    deploy = subprocess.run(
        [*manage, "check", "--deploy"], cwd=project.folder, env=project.env, capture_output=True, text=True, check=False
    )
    checked = deploy.stdout + deploy.stderr
    assert "System check identified" in checked or deploy.returncode == 0, checked
    assert "cors_policies.E" not in checked
    assert "drf_spectacular.E" not in checked
    assert "(cors_policies.W001)" in checked  # the probe sees the app's messages: a LocMemCache here
    run([*manage, "makemigrations", "--check", "--dry-run"], project.folder, project.env)
    static = project.folder / "staticfiles"
    assert (static / "cors_policies" / "admin.css").is_file()
    assert (static / "drf_spectacular_sidecar" / "swagger-ui-dist" / "swagger-ui-bundle.js").is_file()


@dataclass
class Answer:
    status: int
    headers: Any
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Browser:
    """urllib with cookies and no redirects followed; remembers every answer to check none was a 500."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.seen: list[tuple[str, str, int]] = []

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect)

    def request(self, method: str, path: str, data: Any = None, headers: dict[str, str] | None = None) -> Answer:
        headers = dict(headers or {})
        body: bytes | None = None
        if isinstance(data, dict) and headers.get("Content-Type") != "application/json":
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                answer = Answer(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.headers, error.read().decode())
        self.seen.append((method, path, answer.status))
        return answer

    def csrf(self, path: str) -> str:
        page = self.request("GET", path)
        assert page.status == 200, (path, page.status)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {path}"
        return found[1]


@pytest.fixture(scope="module")
def server(project: Project) -> Iterator[str]:
    port = free_port()
    gunicorn = project.python.parent / "gunicorn"
    options = ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", "--access-logfile", "-"]
    if "--no-control-socket" in run([str(gunicorn), "--help"], project.folder, project.env):
        options.append("--no-control-socket")  # parallel test servers must not share ~/.gunicorn
    log = (project.folder / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(gunicorn), "mysite.wsgi", *options], cwd=project.folder, env=project.env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/admin/login/", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("gunicorn exited:\n" + (project.folder / "gunicorn.log").read_text()[-4000:])
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        served = (project.folder / "gunicorn.log").read_text()
        assert "Traceback" not in served, served[-6000:]


@slow
def test_admin_api_and_cors_served_by_gunicorn(project: Project, server: str) -> None:
    admin = Browser(server)
    api = Browser(server)
    token = {"Authorization": f"Token {project.token}"}
    json_headers = {**token, "Content-Type": "application/json"}

    # -- the admin: log in, then the changelist, add, change, the request tester --------------------
    login = admin.request(
        "POST",
        "/admin/login/",
        {
            "username": "admin",
            "password": PASSWORD,
            "next": "/admin/",
            "csrfmiddlewaretoken": admin.csrf("/admin/login/"),
        },
        {"Referer": server + "/admin/login/"},
    )
    assert login.status == 302, login.text[-2000:]
    changelist = admin.request("GET", "/admin/cors_policies/corspolicy/")
    assert changelist.status == 200
    assert "/static/cors_policies/admin.css" in changelist.text
    form = {
        "name": "hello",
        "description": "",
        "path_pattern": "/hello/**",
        "priority": "0",
        "enabled": "on",
        "allowed_origins": APP_ORIGIN,
        "allowed_origin_regexes": "",
        "allowed_methods": ["GET", "PUT"],
        "other_methods": "",
        "allowed_headers": "Content-Type",
        "expose_headers": "",
        "max_age": "600",
        "_save": "Save",
    }
    add_url = "/admin/cors_policies/corspolicy/add/"
    added = admin.request("POST", add_url, {**form, "csrfmiddlewaretoken": admin.csrf(add_url)})
    assert added.status == 302, added.text[-3000:]
    (policy,) = [p for p in api.request("GET", "/api/cors/policies/", headers=token).json()["results"]]
    change_url = f"/admin/cors_policies/corspolicy/{policy['id']}/change/"
    changed = admin.request(
        "POST", change_url, {**form, "priority": "5", "csrfmiddlewaretoken": admin.csrf(change_url)}
    )
    assert changed.status == 302, changed.text[-3000:]
    tester = admin.request(
        "GET",
        "/admin/cors_policies/corspolicy/test/?"
        + urllib.parse.urlencode(
            {
                "origin": APP_ORIGIN,
                "method": "PUT",
                "path": "/hello/",
                "request_headers": "Content-Type",
                "preflight": "on",
            }
        ),
    )
    assert tester.status == 200
    assert "Access-Control-Allow-Origin" in tester.text
    assert APP_ORIGIN in tester.text

    # -- cross-origin requests on the project's own page ---------------------------------------------
    preflight = api.request(
        "OPTIONS",
        "/hello/",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    allowed = api.request("GET", "/hello/", headers={"Origin": APP_ORIGIN})
    assert (allowed.status, allowed.text) == (200, "hello")
    assert allowed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    refused = api.request("GET", "/hello/", headers={"Origin": EVIL_ORIGIN})
    assert refused.status == 200
    assert refused.headers["Access-Control-Allow-Origin"] is None

    # -- the REST API ---------------------------------------------------------------------------------
    assert api.request("GET", "/api/cors/policies/").status == 401
    root = api.request("GET", "/api/cors/", headers=token)
    assert root.status == 200
    assert set(root.json()) >= {"policies", "evaluate", "export", "import", "observed", "schema"}
    created = api.request("POST", "/api/cors/policies/", {"name": "api", "path_pattern": "/v1/**"}, json_headers)
    assert created.status == 201, created.text
    detail = f"/api/cors/policies/{created.json()['id']}/"
    read = api.request("GET", detail, headers=token)
    assert read.status == 200
    patched = api.request(
        "PATCH", detail, {"allowed_origins": [APP_ORIGIN]}, {**json_headers, "If-Match": read.headers["ETag"]}
    )
    assert patched.status == 200, patched.text
    assert patched.json()["allowed_origins"] == [APP_ORIGIN]
    evaluated = api.request(
        "POST", "/api/cors/evaluate/", {"origin": APP_ORIGIN, "method": "GET", "path": "/hello/"}, json_headers
    )
    assert evaluated.status == 200, evaluated.text
    assert evaluated.json()["allowed"] is True
    exported = api.request("GET", "/api/cors/policies/export/", headers=token)
    assert exported.status == 200
    assert {p["name"] for p in exported.json()["policies"]} == {"hello", "api"}
    imported = api.request("POST", "/api/cors/policies/import/?dry_run=1", exported.json(), json_headers)
    assert imported.status == 200, imported.text
    assert api.request("DELETE", detail, headers=token).status == 204
    schema = api.request("GET", "/api/cors/schema/?format=json", headers=token)
    assert schema.status == 200, schema.text[-3000:]
    assert "/api/cors/policies/{id}/" in schema.json()["paths"]
    docs = api.request("GET", "/api/cors/schema/docs/", headers=token)
    assert docs.status == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.text
    assert api.request("GET", "/api/cors/schema/docs/").status == 401

    # -- observed origins: the refused origin shows up (written every few seconds), then allow it ---
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = api.request("GET", "/api/cors/observed/?search=evil", headers=token).json()["results"]
        if rows:
            break
        time.sleep(0.5)
    assert [(row["origin"], row["verdict"]) for row in rows] == [(EVIL_ORIGIN, "refused")]
    observed_url = "/admin/cors_policies/observedorigin/"
    observed = admin.request("GET", observed_url)
    assert observed.status == 200
    assert EVIL_ORIGIN in observed.text
    allow = admin.request(
        "POST",
        observed_url,
        {
            "action": "allow_origins",
            "_selected_action": str(rows[0]["id"]),
            "csrfmiddlewaretoken": admin.csrf(observed_url),
        },
    )
    assert allow.status in (200, 302), allow.text[-3000:]
    assert admin.request("GET", observed_url).status == 200
    assert admin.request("GET", change_url).status == 200

    # -- nothing anywhere was a 500 ----------------------------------------------------------------
    errors = [seen for seen in admin.seen + api.seen if seen[2] >= 500]
    assert errors == []


def test_skip_reason_says_how_to_run_it() -> None:
    """A normal run skips the slow tests quickly, saying why and how to run them."""
    if os.environ.get("CORS_POLICIES_INSTALL_TEST") == "1":
        pytest.skip("the slow tests run in this session")
    assert slow.args == (True,)
    assert "CORS_POLICIES_INSTALL_TEST=1" in slow.kwargs["reason"]
    assert shutil.which("git") is not None  # the slow test clones the repository
