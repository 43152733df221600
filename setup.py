"""Packaging of tb-rnngrad (import name `tb_rnngrad`)."""

import pathlib

import setuptools

HERE = pathlib.Path(__file__).parent

setuptools.setup(
    name="tb-rnngrad",
    version="0.1.0",
    description=(
        "TensorBoard plugin: per-timestep gradients of recurrent layers, to see "
        "whether an RNN's gradient vanishes or explodes back through time"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=[
        *setuptools.find_packages(include=["tb_rnngrad", "tb_rnngrad.*"]),
        "tb_rnngrad.frontend",
    ],
    # The frontend lives at the top level and ships inside the package.
    package_dir={"tb_rnngrad.frontend": "frontend"},
    package_data={
        "tb_rnngrad": ["proto/*.proto"],
        "tb_rnngrad.frontend": ["**/*.js", "**/*.css", "**/*.json", "**/*.svg"],
    },
    install_requires=[
        "numpy>=1.26,<3",
        "protobuf>=6.31.1,<8",
        "tensorboard>=2.16,<2.22",
        "werkzeug>=2.0",
    ],
    extras_require={
        "tf": ["tensorflow>=2.16,<2.22"],
        "viz": ["matplotlib>=3.8"],
        "demo": ["tensorflow-cpu>=2.16,<2.22", "matplotlib>=3.8"],
        "test": [
            "tensorflow-cpu>=2.16,<2.22",
            "matplotlib>=3.8",
            "pytest>=8",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "playwright>=1.45",
            "ruff==0.17.6",
        ],
    },
    entry_points={
        "tensorboard_plugins": ["rnngrad = tb_rnngrad.server.loader:RnnGradLoader"],
        "console_scripts": ["tb-rnngrad = tb_rnngrad.cli:main"],
    },
    classifiers=[
        "Programming Language :: Python :: 3.11",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
