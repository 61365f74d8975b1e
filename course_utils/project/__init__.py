"""The end-to-end sentiment project of chapter 11, as a practitioner would lay it out.

* ``course_utils.project.data`` -- load (IMDB from the Hub, or the course reviews offline,
  through one code path), clean, de-duplicate, describe and split a labelled text corpus.
* ``course_utils.project.evaluation`` -- the metrics of the final evaluation: confusion
  matrix, precision/recall/F1, calibration (reliability bins, ECE), worst mistakes.
* ``course_utils.project.train_sentiment`` -- the training *script* (command-line config,
  AdamW with parameter groups, warmup + decay, clipping, accumulation, AMP, TensorBoard,
  periodic and best checkpoints with exact resumption, DDP under ``torchrun``).
  Run ``python -m course_utils.project.train_sentiment --help``.
"""
