"""The packages of tb-rnngrad and their data files; the metadata is in
pyproject.toml.

The frontend lives in the top-level `frontend/` directory and ships inside the
package as `tb_rnngrad.frontend`, a mapping package discovery cannot express.
"""

import setuptools

#: `frontend/` and its subdirectories, as packages inside tb_rnngrad; never
#: `frontend/node_modules`, where `make lint` installs the type checker (dev only).
FRONTEND = [
    "tb_rnngrad.frontend",
    *(
        f"tb_rnngrad.frontend.{p}"
        for p in setuptools.find_namespace_packages(
            "frontend", exclude=["node_modules", "node_modules.*"]
        )
    ),
]

setuptools.setup(
    packages=[
        *setuptools.find_packages(include=["tb_rnngrad", "tb_rnngrad.*"]),
        *FRONTEND,
    ],
    package_dir={"tb_rnngrad.frontend": "frontend"},
    package_data={
        "tb_rnngrad": ["proto/*.proto"],
        # The file types the plugin serves (tb_rnngrad.server.static).
        **dict.fromkeys(FRONTEND, ["*.js", "*.css", "*.json"]),
    },
)
