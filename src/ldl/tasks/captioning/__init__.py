"""Image captioning with attention (book chapter 16, c16e1 and c16e2), and its generated stand-in.

The path, from files to captions:

- `coco`: COCO 2014's `annotations/captions_train2014.json` -> image id -> [file name, captions].
- `images`: shorter side to 256, central 224 crop, the extractor's own preprocessing.
- `extractors`: VGG19 to `block5_conv4` (any keras.applications network and layer by name), or the
  offline `shapes_grid` extractor of the generated task.
- `cache`: one gzip-compressed pickle of the (14, 14, depth) features per image plus the caption
  dictionary; resumable, streamed to disk.
- `vocabulary`: tokens, START/STOP, decoder input and target padding.
- `batches`: a `keras.utils.PyDataset` that loads each batch's feature files lazily.
- `model`: the book's decoder (GAP -> initial h, c; Embedding -> LSTM -> query -> Attention -> Dense).
- `decoding`: greedy (with attention weights) and beam decoding with state passing.
- `figures`: the photo with the top-k attended regions per generated word.
- `report`, `callbacks`: BLEU, exact match, attention on target; sample captions every epoch.
- `shapes`: the generated verification task (coloured shapes, captions naming which is where).
"""
