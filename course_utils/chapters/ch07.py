"""Chapter 07 -- Mixed precision & multi-GPU: catalog row, sizes per profile, targets."""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.chapters.spec import ChapterSpec, Target


@dataclass(frozen=True)
class Ch07Sizes:
    """Chapter 07: number formats, torch.amp, memory, collectives, DDP, pipeline, ZeRO/FSDP."""

    tiny_updates: int  # updates of size lr*grad added to a weight in the swamping demo
    scaler_steps: int  # optimizer steps of the fp16-autocast run that overflows
    scaler_init_scale: float  # GradScaler's first scale (too large on purpose: it must back off)
    scaler_growth_interval: int  # clean steps before the scale doubles (torch default: 2000)
    bench_width: int  # width of the tiny Transformer timed in fp32 / bf16 / fp16
    bench_layers: int  # its blocks
    bench_batch: int  # sequences per timed step
    bench_seq: int  # tokens per sequence
    bench_reps: int  # timed repetitions (the median is reported)
    mem_width: int  # width of the GPT whose training state is measured
    mem_layers: int  # its blocks
    mem_vocab: int  # its vocabulary
    ckpt_blocks: int  # MLP blocks in the activation-checkpointing demo
    ckpt_width: int  # their width (hidden = 4x)
    ckpt_batch: int  # rows pushed through them
    collective_world: int  # processes of the collectives / ring all-reduce run
    ddp_world: int  # processes of the DDP run
    ddp_samples: int  # synthetic regression samples
    ddp_features: int  # input features
    ddp_hidden: int  # MLP hidden width
    ddp_batch: int  # samples per rank per micro-batch
    ddp_accum: int  # micro-batches per optimizer step (no_sync on all but the last)
    ddp_epochs: int
    ddp_lr: float  # AdamW learning rate
    fsdp: bool  # also run FSDP2 (fully_shard) on CPU with gloo
    pipe_stages: tuple[int, ...]  # pipeline depths p simulated
    pipe_micro: tuple[int, ...]  # micro-batch counts m simulated
    pipe_slot_s: float  # seconds one stage spends on one micro-batch in the simulation
    launch_timeout_s: float  # a multi-process run that takes longer is killed
    gpu_width: int  # full profile on a GPU: width of the model timed in fp32/fp16/bf16
    gpu_batch: int  # its batch (sequences of bench_seq tokens)


CHAPTER = ChapterSpec(
    number="07",
    stem="07_mixed_precision_multi_gpu",
    title="Mixed precision & multi-GPU",
    sizes=dict(
        quick=Ch07Sizes(tiny_updates=1000, scaler_steps=40, scaler_init_scale=2.0 ** 24,
                        scaler_growth_interval=8, bench_width=64, bench_layers=2,
                        bench_batch=8, bench_seq=64, bench_reps=5, mem_width=128,
                        mem_layers=4, mem_vocab=1000, ckpt_blocks=8, ckpt_width=256,
                        ckpt_batch=256, collective_world=3, ddp_world=2, ddp_samples=512,
                        ddp_features=16, ddp_hidden=64, ddp_batch=16, ddp_accum=2,
                        ddp_epochs=2, ddp_lr=1e-2, fsdp=True, pipe_stages=(2, 4),
                        pipe_micro=(1, 2, 4, 8, 16), pipe_slot_s=0.02, launch_timeout_s=120.0,
                        gpu_width=512, gpu_batch=32),
        full=Ch07Sizes(tiny_updates=1000, scaler_steps=200, scaler_init_scale=2.0 ** 24,
                       scaler_growth_interval=50, bench_width=256, bench_layers=4,
                       bench_batch=16, bench_seq=128, bench_reps=10, mem_width=512,
                       mem_layers=8, mem_vocab=8000, ckpt_blocks=16, ckpt_width=512,
                       ckpt_batch=1024, collective_world=4, ddp_world=2, ddp_samples=4096,
                       ddp_features=32, ddp_hidden=256, ddp_batch=32, ddp_accum=4,
                       ddp_epochs=3, ddp_lr=1e-2, fsdp=True, pipe_stages=(2, 4, 8),
                       pipe_micro=(1, 2, 4, 8, 16, 32), pipe_slot_s=0.01,
                       launch_timeout_s=300.0, gpu_width=1024, gpu_batch=64),
    ),
    targets=(
        Target("fp16_update_lost", "==", True,
               "1e-4-sized updates vanish in an fp16 weight and survive in an fp32 master copy"),
        Target("grad_underflow_unscaled", ">=", 0.5,
               "most of the tiny gradients underflow to 0 in fp16 without loss scaling"),
        Target("grad_underflow_scaled", "<=", 0.01, "loss scaling 2^16 keeps them"),
        Target("scaler_skipped_steps", ">=", 1, "the overflowing run skips steps and backs off"),
        Target("scaler_matches_torch", "==", True, "our scaler update == torch.amp.GradScaler"),
        Target("memory_rel_error", "<=", 0.03,
               "16 B/param calculator within 3 % of the measured training-state bytes"),
        Target("checkpoint_saved_ratio", "<=", 0.5,
               "activation checkpointing saves at most half the activation bytes"),
        Target("collectives_match", "==", True,
               "broadcast/reduce/all_reduce/all_gather/reduce_scatter give the expected tensors"),
        Target("ring_allreduce_max_diff", "<=", 1e-5, "hand-written ring all-reduce == all_reduce"),
        Target("ddp_vs_single_max_diff", "<=", 1e-5,
               "2-process DDP (with no_sync accumulation) == one process on the combined batch"),
        Target("bf16_table_rows", ">=", 2, "fp32 vs bf16 speed/memory measured on this machine"),
    ),
    runtime_budget_s=180.0,
    checkers="course_utils.exercises.ch07",
    smoke=dict(scaler_steps=40, scaler_growth_interval=8, bench_width=64, bench_layers=2,
               bench_batch=8, bench_seq=64, bench_reps=2, mem_width=64, mem_layers=2,
               mem_vocab=1000, ckpt_blocks=4, ckpt_width=128, ckpt_batch=64,
               collective_world=2, ddp_samples=128, ddp_features=16, ddp_hidden=32,
               ddp_batch=16, ddp_accum=2, ddp_epochs=1, pipe_stages=(2,), pipe_micro=(1, 4),
               pipe_slot_s=0.01, launch_timeout_s=120.0),
)
