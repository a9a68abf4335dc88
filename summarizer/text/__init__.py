"""Text handling before and after the models: cleaning and segmentation."""
