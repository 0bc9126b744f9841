"""One frontend per source format; each yields a static-shape SavedModel (edgekit.convert.tfmodel.TFModel)."""
