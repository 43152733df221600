"""Metadata creation and version-tolerant parsing."""

import logging

import numpy as np
import pytest
from google.protobuf import message
from tensorboard.compat.proto import summary_pb2

from tb_rnngrad.format import metadata
from tb_rnngrad.format.layer_info import LayerInfo, describe_layer
from tb_rnngrad.proto import plugin_data_pb2


def _data(**overrides):
    options = dict(
        kind="gradients",
        content=plugin_data_pb2.FULL_TENSOR,
        layer=LayerInfo(name="lstm", layer_class="LSTM", units=8),
        shape=(4, 10, 8),
        dtype="float32",
        has_mask=False,
        reach_threshold=0.01,
    )
    options.update(overrides)
    return metadata.create_plugin_data(**options)


def test_round_trip_keeps_every_field():
    data = _data()
    parsed = metadata.parse_plugin_metadata(data.SerializeToString())
    assert parsed == data
    assert parsed.version == 1  # the oldest version that reads "gradients"
    assert metadata.kind_name(parsed.kind) == "gradients"
    assert list(parsed.shape) == [4, 10, 8]


def _series(tag="t", shape=(4, 10, 8), **overrides):
    options = dict(
        kind="gradients",
        layer={"name": "lstm", "layer_class": "LSTM", "units": 8},
        shape=shape,
        dtype="float32",
        has_mask=True,
        reach_threshold=0.05,
        description="d",
    )
    options.update(overrides)
    return metadata.create_summary_metadata(tag, **options)


def test_full_tensor_is_blob_sequence_and_profile_is_tensor():
    series = _series("a/g")
    full, profile = series.full_tensor, series.profile
    assert full.tag == full.metadata.display_name == "a/g"
    assert full.metadata.plugin_data.plugin_name == "rnngrad"
    assert full.metadata.data_class == summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    assert profile.tag == profile.metadata.display_name == "a/g/profile"
    assert profile.metadata.plugin_data.plugin_name == "rnngrad_profile"
    assert profile.metadata.data_class == summary_pb2.DATA_CLASS_TENSOR
    for one in (full, profile):
        assert one.metadata.summary_description == "d"


def test_full_tensor_and_profile_carry_the_same_plugin_data_but_content():
    series = _series()
    full = metadata.parse_plugin_metadata(
        series.full_tensor.metadata.plugin_data.content
    )
    profile = metadata.parse_plugin_metadata(
        series.profile.metadata.plugin_data.content
    )
    assert full == _data(has_mask=True, reach_threshold=0.05)
    assert profile == _data(
        content=plugin_data_pb2.PROFILE, has_mask=True, reach_threshold=0.05
    )


def test_reach_is_an_ordinary_scalar_for_rank_3_data_only():
    reach = _series("g").reach
    assert reach.tag == "g/reach"
    assert reach.metadata.plugin_data.plugin_name == "scalars"
    assert reach.metadata.summary_description == "d"
    assert reach.metadata.display_name == ""
    assert _series("g", shape=(4, 8)).reach is None


def test_missing_description_is_empty_and_unknown_dims_are_minus_one():
    series = _series(shape=(-1, 10, 8), description=None)
    assert series.full_tensor.metadata.summary_description == ""
    assert series.reach.metadata.summary_description == ""
    parsed = metadata.parse_plugin_metadata(
        series.full_tensor.metadata.plugin_data.content
    )
    assert list(parsed.shape) == [-1, 10, 8]


def test_kinds_is_the_list_of_loggable_kinds():
    assert metadata.KINDS == (
        "gradients",
        "activations",
        "input_gradients",
        "state_gradients",
        "cell_state_gradients",
        "weight_contributions",
        "weights",
        "weight_gradients",
        "gate_activations",
    )
    for kind in metadata.KINDS:
        named = kind in metadata.NAMED_AXES_KINDS
        names = dict(weights="w", gates="g") if named else {}
        shape = (1, 10, 1)
        if kind in metadata.MATRIX_KINDS:
            names, shape = dict(weights=["kernel"], gates="ifco"), (3, 8)
        data = _data(kind=kind, shape=shape, **names)
        assert metadata.kind_name(data.kind) == kind


@pytest.mark.parametrize("content", ["text", None, bytearray(b"x"), 3])
def test_parse_rejects_non_bytes(content):
    with pytest.raises(TypeError, match="must be bytes"):
        metadata.parse_plugin_metadata(content)


def test_parse_accepts_older_version():
    old = plugin_data_pb2.RnnGradPluginData(version=0, kind=plugin_data_pb2.GRADIENTS)
    assert metadata.parse_plugin_metadata(old.SerializeToString()).kind == 1


def test_parse_skips_newer_version_with_warning(caplog):
    newer = plugin_data_pb2.RnnGradPluginData(version=metadata.PROTO_VERSION + 1)
    with caplog.at_level(logging.WARNING):
        assert metadata.parse_plugin_metadata(newer.SerializeToString()) is None
    assert f"version {metadata.PROTO_VERSION + 1}" in caplog.text
    assert "upgrade tb-rnngrad" in caplog.text


@pytest.mark.parametrize(
    "kind, version",
    [
        ("gradients", 1),
        ("activations", 1),
        ("input_gradients", 1),
        ("state_gradients", 2),
        ("cell_state_gradients", 2),
        ("weight_contributions", 2),
    ],
)
def test_each_kind_is_written_with_the_oldest_version_that_reads_it(
    kind, version, monkeypatch, caplog
):
    wc = kind == "weight_contributions"
    names = dict(weights=("kernel",), gates=("i", "f")) if wc else {}
    data = _data(kind=kind, shape=(1, 10, 2), **names)
    assert data.version == version
    assert metadata.kind_name(data.kind) == kind
    assert list(data.weights) == list(names.get("weights", ()))
    monkeypatch.setattr(metadata, "PROTO_VERSION", 1)  # a reader of version 1
    with caplog.at_level(logging.WARNING):
        parsed = metadata.parse_plugin_metadata(data.SerializeToString())
    assert (parsed is None) == (version == 2)
    assert ("version 2" in caplog.text) == (version == 2)


@pytest.mark.parametrize(
    "kind, shape, names, message",
    [
        ("weight_contributions", (3, 10, 4), {}, "weights= naming axis 0"),
        (
            "weight_contributions",
            (3, 10, 4),
            dict(weights=("kernel", "recurrent_kernel", "bias"), gates="zrh"),
            "gates= naming axis 2",
        ),
        ("weight_contributions", (3, 4), dict(weights="abc"), "got shape"),
        ("gradients", (3, 10, 4), dict(gates="ifco"), "weight_contributions"),
    ],
)
def test_axis_names_must_fit_the_kind_and_shape(kind, shape, names, message):
    with pytest.raises(ValueError, match=message):
        _data(kind=kind, shape=shape, **names)


def test_parse_ignores_unknown_fields_of_same_version():
    data = _data().SerializeToString() + b"\xa8\x06\x01"  # field 101 = 1
    assert metadata.parse_plugin_metadata(data).layer_class == "LSTM"


def test_parse_raises_decode_error_on_garbage():
    with pytest.raises(message.DecodeError):
        metadata.parse_plugin_metadata(b"\xff\xff\xff")


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind must be one of"):
        _data(kind="biases")


def test_tags_of_companions():
    assert metadata.profile_tag("a/b") == "a/b/profile"
    assert metadata.reach_tag("a/b") == "a/b/reach"


def test_describe_layer_from_dict_and_errors():
    info = describe_layer({"name": "g", "layer_class": "GRU", "units": 3})
    assert info == LayerInfo(name="g", layer_class="GRU", units=3)
    assert describe_layer(None) == LayerInfo()
    with pytest.raises(TypeError, match="unknown keys"):
        describe_layer({"unit": 3})
    with pytest.raises(TypeError, match="Keras layer"):
        describe_layer(3)


def test_describe_layer_records_the_half_of_a_split_bidirectional_layer():
    whole = {"name": "bi", "layer_class": "GRU", "bidirectional": True}
    assert describe_layer(whole, "backward") == LayerInfo(
        name="bi",
        layer_class="GRU",
        bidirectional=True,
        direction="backward",
    )
    assert describe_layer(whole).direction == ""
    with pytest.raises(ValueError, match="got 'left'"):
        describe_layer(whole, "left")


def test_weight_matrix_series_have_gate_histograms_and_scalars_and_no_profile():
    from tb_rnngrad.format import weight_layout

    series = metadata.create_summary_metadata(
        "weights/lstm/kernel",
        kind="weights",
        layer={"name": "lstm", "layer_class": "LSTM", "units": 2},
        shape=(3, 8),
        dtype="float32",
        has_mask=False,
        reach_threshold=0.01,
        description="d",
        weights=("kernel",),
        gates=("i", "f", "c", "o"),
    )
    assert series.profile is None and series.reach is None
    parsed = metadata.parse_plugin_metadata(
        series.full_tensor.metadata.plugin_data.content
    )
    assert (parsed.version, metadata.kind_name(parsed.kind)) == (2, "weights")
    assert (list(parsed.weights), list(parsed.gates)) == (["kernel"], list("ifco"))
    assert [g.columns for g in series.gates] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert series.gates[1].histogram_tag == "weights/lstm/kernel/f"
    assert [s.tag for s in series.gates[1].stats] == [
        f"weights/lstm/kernel/f/{stat}" for stat in weight_layout.GATE_STATS
    ]
    assert series.gates[1].stats[0].metadata.plugin_data.plugin_name == "scalars"


@pytest.mark.parametrize(
    "shape, weights, gates, match",
    [
        ((3, 7), ("kernel",), "ifco", "cannot be split"),
        ((3, 8), (), "ifco", "pass its name"),
        ((3, 8), ("kernel", "bias"), "ifco", "pass its name"),
        ((2, 3, 8), ("kernel",), "ifco", r"\(rows, columns\)"),
        ((3, 8), ("kernel",), "", "cannot be split"),
    ],
)
def test_weight_matrix_metadata_rejects_a_wrong_layout(shape, weights, gates, match):
    with pytest.raises(ValueError, match=match):
        metadata.create_plugin_data(
            kind="weight_gradients",
            content=0,
            layer=LayerInfo(),
            shape=shape,
            dtype="float32",
            has_mask=False,
            reach_threshold=0.01,
            weights=weights,
            gates=gates,
        )


def test_gate_stats_reference():
    from tb_rnngrad.format import weight_layout

    block = np.array([[0.0, -3.0, np.nan], [np.inf, 0.0, 1.0]], np.float32)
    np.testing.assert_array_equal(
        weight_layout.gate_stats(block), np.float32([3.0, 2 / 6, 2])
    )
    np.testing.assert_array_equal(
        weight_layout.gate_stats(np.full((1, 2), np.nan)), np.float32([0, 0, 2])
    )
    assert weight_layout.finite_values(block).tolist() == [0.0, -3.0, 0.0, 1.0]
