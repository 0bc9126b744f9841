"""Memory and compute report of a generated library (`edgekit codegen --report / --json`)."""

from __future__ import annotations

from typing import Any

from edgekit.codegen.emit import state_tensors
from edgekit.codegen.generate import Generated
from edgekit.codegen.lifetimes import live_bytes_per_time
from edgekit.codegen.planner import requests_from_graph


def activation_lower_bound(gen: Generated) -> int:
    """Max over ops of the live activation bytes, unaligned, no scratch, no in-place: the plain
    lower bound any planner that keeps inputs and outputs apart must meet."""
    graph = gen.model.graph
    view_ops = {layer.op_index for layer in gen.model.layers if layer.kernel is None}
    requests, _ = requests_from_graph(graph, {}, {}, view_ops)
    return max(live_bytes_per_time(requests, len(graph.operators), 1), default=0)


def memory_report(gen: Generated) -> dict[str, Any]:
    graph, plan, mem = gen.model.graph, gen.memory.plan, gen.memory
    consts = {c.name: c.nbytes for layer in gen.model.layers for c in layer.consts}
    const_tensors = {i for layer in gen.model.layers for i in layer.inputs if graph.tensors[i].is_constant}
    weights = sum(consts.values()) + sum(graph.tensors[i].nbytes for i in const_tensors)
    layers = []
    for layer in gen.model.layers:
        op = layer.op_index
        # folded and fused-away operators (constant shapes, space-to-batch around a dilated
        # convolution) have no output of their own
        out_bytes = graph.tensors[layer.outputs[0]].nbytes if layer.outputs else 0
        layers.append({
            "op_index": op, "opcode": layer.opcode, "summary": layer.summary, "macs": layer.macs,
            "output_bytes": out_bytes, "scratch_bytes": mem.scratch_bytes.get(op, 0),
            "live_bytes": plan.live_bytes_per_op[op], "in_place": op in mem.inplace,
            "view": layer.kernel is None,
            "weight_bytes": sum(c.nbytes for c in layer.consts),
        })
    return {
        "model": graph.name, "name": gen.name, "sha256": graph.sha256,
        "arena_bytes": plan.arena_bytes,
        "activation_lower_bound_bytes": activation_lower_bound(gen),
        "plan_lower_bound_bytes": plan.lower_bound_bytes,
        "inplace_lower_bound_bytes": plan.inplace_lower_bound_bytes,
        "scratch_bytes_max": max(mem.scratch_bytes.values(), default=0),
        "weights_bytes": weights, "macs": sum(layer.macs for layer in gen.model.layers),
        "state_bytes": sum(t.nbytes for t in state_tensors(gen.model)),
        "plan_method": plan.method, "alignment": plan.alignment,
        "in_place_layers": sorted(mem.inplace), "layers": layers,
    }


def format_report(rep: dict[str, Any]) -> str:
    lines = [f"model {rep['model']} -> {rep['name']}",
             f"  arena (RAM)        {rep['arena_bytes']:>10,} bytes  (plan: {rep['plan_method']}, "
             f"alignment {rep['alignment']})",
             f"  lower bound        {rep['activation_lower_bound_bytes']:>10,} bytes  (live activations, no "
             f"scratch; with scratch and alignment {rep['plan_lower_bound_bytes']:,})",
             f"  scratch (max)      {rep['scratch_bytes_max']:>10,} bytes",
             f"  weights (flash)    {rep['weights_bytes']:>10,} bytes",
             f"  state (RAM)        {rep['state_bytes']:>10,} bytes  (recurrent state, outside the arena)",
             f"  MACs               {rep['macs']:>10,}",
             f"  in-place layers    {', '.join(map(str, rep['in_place_layers'])) or 'none'}",
             "",
             f"  {'op':>3} {'operator':<18} {'MACs':>12} {'live bytes':>11} {'scratch':>8} {'weights':>8}  shapes"]
    for r in rep["layers"]:
        tag = " (in place)" if r["in_place"] else ""
        lines.append(f"  {r['op_index']:>3} {r['opcode']:<18} {r['macs']:>12,} {r['live_bytes']:>11,} "
                     f"{r['scratch_bytes']:>8,} {r['weight_bytes']:>8,}  {r['summary']}{tag}")
    return "\n".join(lines)
