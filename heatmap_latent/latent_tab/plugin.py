"""``LatentTabPlugin``: a dynamic TensorBoard plugin (entry point ``tensorboard_plugins``).

TensorBoard loads ``index.js`` as an ES module in a frame whose content-security policy allows
scripts only from this server. The tab lists the runs under the log directory; each run picked
opens a panel (``panel.html``, another frame) that loads the explorer's own classic scripts from
``static/`` and its data from ``data?run=``: the explorer page's data, built from the run's
snapshots, whose earlier frames' weights the panel fetches from ``frame?run=&epoch=`` as its epoch
slider needs them. Every route reads only inside the log directory TensorBoard was given.
"""

from __future__ import annotations

import json
import os
import time
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from heatmap_latent.analysis.loading import run_overrides
from heatmap_latent.core.errors import UserError
from heatmap_latent.explorer.live import latest_weights, snapshot_data, snapshot_frame
from heatmap_latent.explorer.page import PAGE, SCRIPTS, _asset
from heatmap_latent.training.snapshots import DIRNAME, INDEX, read_index

PLUGIN_NAME = "heatmap_latent"
STATIC = {  # served file -> (package, name, mime type)
    "index.js": ("heatmap_latent.latent_tab", "static/index.js", "text/javascript"),
    "static/panel.js": ("heatmap_latent.latent_tab", "static/panel.js", "text/javascript"),
    # the explorer's scripts, the same files and order as the static page's
    **{f"static/{name}": ("heatmap_latent.explorer", name, "text/javascript") for name in SCRIPTS},
}
LISTING_TTL_S = 2.0  # the tab polls; one walk of the log directory serves the requests of 2 s


class OutsideLogdir(UserError):
    """A requested run that is not a run directory inside the log directory."""


def find_runs(logdir: Path) -> list[dict[str, Any]]:
    """Every train.py run directory under ``logdir`` (symlinks not followed), with its snapshots."""
    runs = []
    for root, dirs, _ in os.walk(logdir, followlinks=False):
        here = Path(root)
        if (here / ".hydra" / "config.yaml").is_file():
            dirs[:] = []  # a run directory holds no other run
            try:
                epochs = [e["epoch"] for e in read_index(here)]
            except UserError as err:
                epochs, problem = [], str(err)
            else:
                problem = None if epochs else "no snapshots: the run predates them or turned them off"
            overrides = [o for o in run_overrides(here) if not o.startswith("hydra.")]
            runs.append(
                {
                    "run": here.relative_to(logdir).as_posix(),
                    "label": " ".join(overrides) or "(defaults)",
                    "epochs": epochs,
                    "problem": problem,
                }
            )
        dirs.sort()
    return runs


def run_dir_in(logdir: Path, run: str | None) -> Path:
    """``logdir / run`` if it is a run directory with snapshots inside ``logdir`` (after following
    symlinks); ``..``, absolute paths and links out are refused."""
    if not run:
        raise OutsideLogdir("no run given")
    root = logdir.resolve()
    path = (root / run).resolve()
    if Path(run).is_absolute() or not path.is_relative_to(root) or path == root:
        raise OutsideLogdir(f"{run!r} is not a run inside the log directory")
    if not (path / DIRNAME / INDEX).is_file():
        raise OutsideLogdir(f"{run!r} has no snapshots")
    return path


class LatentTabPlugin(base_plugin.TBPlugin):
    plugin_name = PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext) -> None:
        self.logdir = Path(context.logdir or ".")
        self._listing: tuple[float, list[dict[str, Any]]] = (0.0, [])

    def runs(self) -> list[dict[str, Any]]:
        when, listing = self._listing
        if time.monotonic() - when > LISTING_TTL_S:
            listing = find_runs(self.logdir) if self.logdir.is_dir() else []
            self._listing = (time.monotonic(), listing)
        return listing

    def is_active(self) -> bool:
        return any(r["epochs"] for r in self.runs())

    def frontend_metadata(self) -> base_plugin.FrontendMetadata:
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Latent", disable_reload=True)

    def get_plugin_apps(self) -> dict[str, Any]:
        apps: dict[str, Any] = {f"/{name}": self._static(name) for name in STATIC}
        apps.update({"/panel.html": self._panel, "/runs": self._runs, "/data": self._data, "/index": self._index})
        apps.update({"/frame": self._frame, "/weights": self._weights})
        return apps

    def _static(self, name: str) -> Any:
        package, path, mime = STATIC[name]

        @wrappers.Request.application
        def serve(request: wrappers.Request) -> wrappers.Response:
            return http_util.Respond(request, files(package).joinpath(path).read_text(), mime)

        return serve

    @wrappers.Request.application
    def _panel(self, request: wrappers.Request) -> wrappers.Response:
        html = PAGE.render(
            title="heatmap-latent",
            meta="",
            style=Markup(_asset("explorer.css")),
            data_json=Markup("null"),
            script=None,
            start=None,
            script_srcs=[*(f"static/{name}" for name in SCRIPTS), "static/panel.js"],
        )
        return http_util.Respond(request, html, "text/html")

    @wrappers.Request.application
    def _runs(self, request: wrappers.Request) -> wrappers.Response:
        return http_util.Respond(request, {"logdir": str(self.logdir), "runs": self.runs()}, "application/json")

    def _answer(self, request: wrappers.Request, build: Any, binary: bool = False) -> wrappers.Response:
        try:
            body = build(run_dir_in(self.logdir, request.args.get("run")))
        except OutsideLogdir as err:
            return http_util.Respond(request, {"error": str(err)}, "application/json", code=404)
        except UserError as err:
            return http_util.Respond(request, {"error": str(err)}, "application/json", code=422)
        if binary:
            return http_util.Respond(request, body, "application/octet-stream")
        return http_util.Respond(request, json.dumps(body), "application/json")

    @wrappers.Request.application
    def _data(self, request: wrappers.Request) -> wrappers.Response:
        run = quote(request.args.get("run", ""))
        frame = lambda epoch: f"frame?run={run}&epoch={epoch}"  # noqa: E731
        weights = lambda epoch: f"weights?run={run}&epoch={epoch}"  # noqa: E731, the panel fetches epoch=latest beside it
        return self._answer(request, lambda run_dir: snapshot_data(run_dir, frame_url=frame, weights_url=weights))

    def _binary(self, request: wrappers.Request, build: Any, latest: bool = False) -> wrappers.Response:
        epoch = request.args.get("epoch", "")
        if not (epoch.isdigit() or (latest and epoch == "latest")):
            error = {"error": f"epoch {epoch!r} is not a number"}
            return http_util.Respond(request, error, "application/json", code=400)
        number = int(epoch) if epoch.isdigit() else None
        return self._answer(request, lambda run_dir: build(run_dir, number), binary=True)

    @wrappers.Request.application
    def _frame(self, request: wrappers.Request) -> wrappers.Response:
        """One earlier frame's weights, the blob of ``explorer/frames.py``, fetched as the slider needs it."""
        return self._binary(request, snapshot_frame)

    @wrappers.Request.application
    def _weights(self, request: wrappers.Request) -> wrappers.Response:
        """A snapshot's float32 decoder and encoder (``epoch=latest``: the latest's), fetched beside
        ``data`` before the panel starts."""
        return self._binary(request, latest_weights, latest=True)

    @wrappers.Request.application
    def _index(self, request: wrappers.Request) -> wrappers.Response:
        return self._answer(request, lambda run_dir: {"epochs": [e["epoch"] for e in read_index(run_dir)]})
