"""Image classification with pretrained networks (chapter 8): ldl predict and the inference runner."""
