"""The release check: one version wherever a release names it, CHANGELOG.md in Keep a Changelog form, and
the README's install lines installing what they say, for real, from a clone of this repository.

A release (README, "Releasing") is one commit that bumps `[project].version` in pyproject.toml and `version`
in policy/PulumiPolicy.yaml, moves CHANGELOG.md's Unreleased entries under the new version's heading, and is
tagged `v<version>`. Checked elsewhere and not repeated here:
tests/distribution/test_wheel.py::test_one_version_for_the_distribution_and_the_pack_whose_requirements_are_public
holds PulumiPolicy.yaml's version, `secure_api.__version__` and the pack's `pack_version()` to pyproject's and
policy/requirements.txt to `pulumi-policy` and PyYAML only (it names no secure-api version that could drift);
tests/distribution/test_pack_install.py runs the copied pack folder with that version.

The install test clones the committed history (a release is a commit; uncommitted edits are not in the clone),
installs each README line into a fresh virtualenv with the URL pointed at the clone, and runs `secure-api
--version` there. As in test_wheel.py the install is offline: no build isolation (setuptools from
requirements-dev.txt), `--no-deps --no-index`, and the runtime dependencies borrowed from this venv's
site-packages through a `.pth` path line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from packaging.version import Version
from pulumi.runtime.proto import provider_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
CHANGELOG = ROOT / "CHANGELOG.md"
README = ROOT / "README.md"

# `python -m pulumi.run.plugin <name>` hosts the components with `component_provider_host(name, components)`
# and no version, and the SDK then serves "0.0.0" (pulumi/provider/experimental/host.py): the plugin carries no
# version of its own, and `pulumi package add <repo>@v<version>` identifies the package by the git tag.
SDK_DEFAULT_PLUGIN_VERSION = "0.0.0"

SEMVER = r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
UNRELEASED_HEADING = re.compile(r"^## \[Unreleased\]$")
RELEASE_HEADING = re.compile(rf"^## \[(?P<version>{SEMVER})\] - (?P<date>\d{{4}}-\d{{2}}-\d{{2}})$")
SUBSECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security", "Upgrading"}
LINK_REFERENCE = re.compile(r"^\[(?P<label>[^\]]+)\]: (?P<url>\S+)$")
COMPARE = re.compile(r"/compare/(?P<base>[^/]+?)\.\.\.(?P<head>[^/]+)$")
SINGLE = re.compile(r"/(?:commits?|tree|releases/tag)/(?P<head>[^/]+)$")
COMMIT_SHA = re.compile(r"[0-9a-f]{7,40}")

# The README's install lines, `pip install "git+<repo>@<ref>"` and the requirements.txt form; the repository
# URL may hold placeholders with spaces (`<your git host>`), a ref is a name or the placeholder `<commit sha>`.
REF = r'(?P<ref>[^\s"<>]+|<[^>\n]+>)'
PIP_LINE = re.compile(rf'^pip install "(?P<url>git\+(?P<repo>https://[^"@\n]+/secure-api)@{REF})"', re.M)
REQUIREMENT_LINE = re.compile(rf"^(?P<url>secure-api @ git\+(?P<repo>https://[^@\n]+/secure-api)@{REF})[ \t]*$", re.M)
COMMIT_PLACEHOLDER = "<commit sha>"
TAG_MENTION = re.compile(r"secure-api@v(?P<version>\d+(?:\.\d+)+)")
# Only the distribution itself, built with this venv's setuptools; nothing already installed is uninstalled.
OFFLINE_INSTALL = ("--quiet", "--no-deps", "--no-index", "--no-build-isolation", "--ignore-installed")


@dataclass
class Section:
    """One `## ` version section of the changelog."""

    heading: str
    version: Version | None
    """None for Unreleased."""
    date: dt.date | None
    subsections: dict[str, list[str]] = field(default_factory=dict)
    """`### ` name -> its list items."""


@dataclass
class Changelog:
    sections: list[Section]
    links: dict[str, str]
    """Link reference definitions, label (lowercase, as Markdown matches them) -> URL."""

    @property
    def released(self) -> list[Section]:
        return [section for section in self.sections if section.version is not None]


def parse_changelog(text: str) -> Changelog:
    """The version sections and link references of a Keep a Changelog 1.1.0 file; ValueError on another form."""
    lines = text.splitlines()
    if not lines or lines[0] != "# Changelog":
        raise ValueError("the first line must be '# Changelog'")
    sections: list[Section] = []
    links: dict[str, str] = {}
    items: list[str] | None = None
    for number, line in enumerate(lines[1:], start=2):
        if link := LINK_REFERENCE.match(line):
            links[link["label"].lower()] = link["url"]
            items = None
        elif line.startswith("## "):
            if UNRELEASED_HEADING.match(line):
                sections.append(Section(line, None, None))
            elif release := RELEASE_HEADING.match(line):
                try:
                    date = dt.date.fromisoformat(release["date"])
                except ValueError as error:
                    raise ValueError(f"line {number}: {line!r} has no valid date ({error})") from None
                sections.append(Section(line, Version(release["version"]), date))
            else:
                raise ValueError(f"line {number}: {line!r} is neither '## [Unreleased]' nor '## [X.Y.Z] - YYYY-MM-DD'")
            items = None
        elif line.startswith("### "):
            name = line.removeprefix("### ")
            if not sections:
                raise ValueError(f"line {number}: {line!r} comes before the first version heading")
            if name not in SUBSECTIONS:
                raise ValueError(f"line {number}: {name!r} is not one of {sorted(SUBSECTIONS)}")
            if name in sections[-1].subsections:
                raise ValueError(f"line {number}: {sections[-1].heading} has two '### {name}' sections")
            items = sections[-1].subsections[name] = []
        elif line.startswith("- ") and items is not None:
            items.append(line.removeprefix("- "))
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
        elif line.startswith("#"):
            raise ValueError(f"line {number}: {line!r} is a heading of a level the format does not use")
    return Changelog(sections, links)


def changelog() -> Changelog:
    return parse_changelog(CHANGELOG.read_text(encoding="utf-8"))


def git(*args: str | Path, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def version_at(commit: str, repo: Path = ROOT) -> str:
    """`[project].version` of pyproject.toml as committed at `commit`."""
    return tomllib.loads(git("show", f"{commit}:pyproject.toml", cwd=repo))["project"]["version"]


def readme_section(title: str) -> str:
    """The text of the README's `## <title>` section, up to the next `## ` heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(?P<body>.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match["body"]


def test_parser_refuses_what_keep_a_changelog_does_not_allow() -> None:
    """The parser the checks below rely on fails on the mistakes they are there to catch."""
    good = "# Changelog\n\n## [Unreleased]\n\n### Upgrading\n\n## [1.0.0] - 2026-01-31\n\n### Added\n\n- x\n"
    assert [s.heading for s in parse_changelog(good).sections] == ["## [Unreleased]", "## [1.0.0] - 2026-01-31"]
    for bad, problem in [
        (good.replace("2026-01-31", "2026-02-30"), "no valid date"),
        (good.replace("[1.0.0] - ", "[1.0.0] "), "neither"),
        (good.replace("[1.0.0]", "[1.0]"), "neither"),
        (good.replace("[1.0.0]", "[01.0.0]"), "neither"),
        (good.replace("### Added", "### Notes"), "is not one of"),
        (good.replace("# Changelog", "# Changes"), "first line"),
        (good + "#### Detail\n", "level"),
    ]:
        with pytest.raises(ValueError, match=problem):
            parse_changelog(bad)


def test_changelog_is_keep_a_changelog_with_upgrading_notes_and_the_newest_release_is_pyproject_version() -> None:
    log = changelog()
    assert log.sections, "CHANGELOG.md has no version section"
    assert log.sections[0].version is None, "the first version section must be '## [Unreleased]'"
    assert [s.version for s in log.sections[1:]] == [s.version for s in log.released], "one Unreleased, first"
    versions = [s.version for s in log.released]
    assert versions == sorted(versions, reverse=True), f"released versions not in descending order: {versions}"
    assert len(set(versions)) == len(versions), f"a version is listed twice: {versions}"
    dates = [s.date for s in log.released]
    assert dates == sorted(dates, reverse=True), f"a newer version has an older date: {dates}"
    assert log.released, "CHANGELOG.md has no released version"
    assert str(log.released[0].version) == VERSION, (
        f"the newest release in CHANGELOG.md is {log.released[0].version}, pyproject.toml says {VERSION}: "
        "a release commit moves the Unreleased entries under the new version's heading"
    )
    for section in log.sections:
        assert "Upgrading" in section.subsections, f"{section.heading} has no '### Upgrading' section"
    for section in log.released:
        for name, entries in section.subsections.items():
            assert entries, f"{section.heading}: '### {name}' has no entry"
        assert section.subsections.keys() - {"Upgrading"}, f"{section.heading} lists no change"


def test_changelog_links_every_version_from_the_previous_release() -> None:
    """`[Unreleased]` compares the newest release with HEAD; each release compares the one before with itself."""
    log = changelog()
    heads: list[str] = []
    for section in log.sections:
        label = "unreleased" if section.version is None else str(section.version)
        assert label in log.links, f"no link reference '[{label}]: <url>' for {section.heading}"
        url = log.links[label]
        match = COMPARE.search(url) or SINGLE.search(url)
        assert match, f"[{label}]: {url} is neither a compare nor a commit or tag link"
        heads.append(match["head"])
        if section.version is None:
            assert match["head"] == "HEAD", f"[Unreleased] must compare up to HEAD, not {match['head']}"
        else:
            assert match["head"] == f"v{section.version}" or COMMIT_SHA.fullmatch(match["head"]), (
                f"[{label}] must end at the tag v{section.version} or at its release commit, not {match['head']}"
            )
    for index, section in enumerate(log.sections[:-1]):
        url = log.links["unreleased" if section.version is None else str(section.version)]
        compare = COMPARE.search(url)
        assert compare, f"{url} must compare with the previous release"
        older = log.sections[index + 1]
        assert compare["base"] in {heads[index + 1], f"v{older.version}"}, (
            f"{url} must start where {older.heading} ends ({heads[index + 1]} or its tag v{older.version})"
        )


def test_changelog_release_commits_carry_their_version() -> None:
    """A release link that names a commit names one whose pyproject.toml says that version."""
    log = changelog()
    named: dict[str, str] = {}
    for section in log.released:
        url = log.links.get(str(section.version), "")
        match = COMPARE.search(url) or SINGLE.search(url)
        if match and COMMIT_SHA.fullmatch(match["head"]):
            named[str(section.version)] = match["head"]
    if not named:
        pytest.skip("every release link names a tag")
    missing = [
        sha
        for sha in named.values()
        if subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=ROOT, capture_output=True).returncode
    ]
    if missing and git("rev-parse", "--is-shallow-repository") == "true":
        pytest.skip(f"a shallow clone lacks the release commits {missing}")
    assert not missing, f"release links name commits this repository does not have: {missing}"
    wrong = {
        f"[{version}] ends at {sha}": version_at(sha) for version, sha in named.items() if version_at(sha) != version
    }
    assert not wrong, f"release links end at commits whose pyproject.toml says another version: {wrong}"


def test_readme_install_lines_pin_the_release_tag_or_a_commit() -> None:
    """The documented forms, with the tag of pyproject's version: a version bump that forgets the README fails."""
    section = readme_section("Installing the component")
    for pattern, form in ((PIP_LINE, "pip install"), (REQUIREMENT_LINE, "requirements.txt")):
        refs = [match["ref"] for match in pattern.finditer(section)]
        assert sorted(refs) == sorted([f"v{VERSION}", COMMIT_PLACEHOLDER]), (
            f"the {form} lines of '## Installing the component' pin {refs}: expected the release tag v{VERSION} "
            f"and a commit ({COMMIT_PLACEHOLDER})"
        )
    assert "CHANGELOG.md" in section
    assert "Upgrading" in section
    # Every tracked file but the changelog, which names old releases on purpose: README's `pulumi package add`
    # lines, the examples' requirements and Pulumi.yaml, comments in policy/ or docs/.
    mentioned = {
        f"{path}: secure-api@v{match['version']}"
        for path in git("ls-files").splitlines()
        if path != CHANGELOG.name and (ROOT / path).is_file()
        for match in TAG_MENTION.finditer((ROOT / path).read_text(encoding="utf-8", errors="replace"))
        if match["version"] != VERSION
    }
    assert not mentioned, f"install lines name another release than pyproject.toml's {VERSION}: {sorted(mentioned)}"


def test_component_plugin_states_no_other_version(plugin: int) -> None:
    """The plugin `pulumi package add` starts reports pyproject's version or none of its own (the SDK default).

    It runs the `secure_api` this distribution installs; neither PulumiPlugin.yaml nor the plugin may name a
    different version (say, a stale one written by hand).
    """
    manifest = yaml.safe_load((ROOT / "PulumiPlugin.yaml").read_text()) or {}
    stated = str(manifest.get("version", VERSION)).removeprefix("v")
    assert stated == VERSION, f"PulumiPlugin.yaml states version {stated}, pyproject.toml {VERSION}"
    with grpc.insecure_channel(f"127.0.0.1:{plugin}") as channel:
        info = provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=60)
    assert info.version in {VERSION, SDK_DEFAULT_PLUGIN_VERSION}, info.version


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository with the tag the README pins: an existing one, else made here on HEAD.

    Making the tag in the clone stands in for the release step that creates it; the repository is not touched.
    """
    path = tmp_path_factory.mktemp("release") / "secure-api"
    git("clone", "--quiet", ROOT, path)
    tag = f"v{version_at('HEAD', path)}"
    if not git("tag", "--list", tag, cwd=path):
        git("tag", tag, "HEAD", cwd=path)
    return path


def fresh_venv(home: Path) -> Path:
    """A virtualenv without pip whose site-packages borrow this one's (for the runtime and build dependencies)."""
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.mark.parametrize("form", ["pip install", "requirements.txt"])
@pytest.mark.parametrize("pin", ["tag", "commit"])
def test_readme_install_line_installs_that_release(form: str, pin: str, clone: Path, tmp_path: Path) -> None:
    """Each install line of the README, pointed at a clone, installs the commit it names and its version."""
    pattern = PIP_LINE if form == "pip install" else REQUIREMENT_LINE
    section = readme_section("Installing the component")
    lines = [m for m in pattern.finditer(section) if (m["ref"] == COMMIT_PLACEHOLDER) == (pin == "commit")]
    assert len(lines) == 1, f"expected one {form} line pinning a {pin}, found {[m['url'] for m in lines]}"
    line = lines[0]
    ref = git("rev-parse", "HEAD", cwd=clone) if pin == "commit" else line["ref"]
    if pin == "tag":
        assert git("tag", "--list", ref, cwd=clone), (
            f"the README pins the tag {ref}, which the clone does not have (HEAD says {version_at('HEAD', clone)})"
        )
    # `file://localhost/...`: pip before 24 refuses a VCS URL without a host (its vendored packaging 21).
    url = line["url"].replace(line["repo"], clone.as_uri().replace("file:///", "file://localhost/", 1))
    url = url.replace(COMMIT_PLACEHOLDER, ref)
    commit = git("rev-parse", f"{ref}^{{commit}}", cwd=clone)
    expected = version_at(commit, clone)
    if pin == "tag":
        assert ref == f"v{expected}", f"the tag {ref} is on a commit whose pyproject.toml says {expected}"

    python = fresh_venv(tmp_path / "venv")
    if form == "requirements.txt":
        (tmp_path / "requirements.txt").write_text(url + "\n")
        target = ["-r", str(tmp_path / "requirements.txt")]
    else:
        target = [url]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", *OFFLINE_INSTALL, *target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    cli = subprocess.run(
        [python.parent / "secure-api", "--version"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert cli.stdout.strip() == f"secure-api {expected}"
    probe = (
        "import secure_api\n"
        "from importlib import metadata\n"
        "print(secure_api.__file__)\n"
        "print(metadata.distribution('secure-api').read_text('direct_url.json'))\n"
    )
    run = subprocess.run([python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=env, check=True)
    location, direct_url = run.stdout.split("\n", 1)
    assert Path(location).is_relative_to(tmp_path / "venv"), f"secure_api imported from {location}"
    vcs = json.loads(direct_url)["vcs_info"]
    assert (vcs["vcs"], vcs["commit_id"], vcs["requested_revision"]) == ("git", commit, ref)
