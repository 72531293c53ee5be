"""Project and screen files as the station reads them: ``load_project`` reads ``project.yaml``
and its screen and template files (YAML with positions), validates them against the schema
(``schema``), instantiates templates (``templates``) and cross-checks everything, naming
file, line and column for every problem. The ``_`` modules are its private parts."""

from hmi.model.screens.loader import (
    Project,
    check_project,
    json_schema,
    load_project,
    load_screen_file,
    load_template_file,
)
from hmi.model.screens.schema import ScreenFile, TemplateFile, iter_widgets
from hmi.model.screens.templates import PlaceholderError, instantiate

__all__ = [
    "PlaceholderError",
    "Project",
    "ScreenFile",
    "TemplateFile",
    "check_project",
    "instantiate",
    "iter_widgets",
    "json_schema",
    "load_project",
    "load_screen_file",
    "load_template_file",
]
