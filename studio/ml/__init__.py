"""The Qt-free science core: models, trainers, datasets, checkpoints. Never imports Qt."""
