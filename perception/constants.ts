/** Fixed facts about the pretrained models and the hand–object state built from them. */
import type { ObjectKind } from './types.js';

/** COCO's 80 detection classes in the order of CenterNet's class output. */
export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light', 'fire hydrant', 'stop sign',
  'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
  'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard',
  'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv',
  'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
  'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

/** The COCO classes a kitchen counter shows, with the coarse kind the model reads. Others are ignored. */
export const KITCHEN_CLASSES: Readonly<Record<string, ObjectKind>> = {
  cup: 'container', bowl: 'container', bottle: 'container', 'wine glass': 'container', vase: 'container',
  knife: 'utensil', spoon: 'utensil', fork: 'utensil', scissors: 'utensil',
  banana: 'food', apple: 'food', orange: 'food', carrot: 'food', broccoli: 'food', sandwich: 'food', pizza: 'food', donut: 'food', cake: 'food', 'hot dog': 'food',
};

/** MediaPipe hand landmark indices. */
export const HAND_LANDMARK = { wrist: 0, thumbTip: 4, indexBase: 5, indexTip: 8, middleBase: 9, pinkyBase: 17 } as const;

/** Most hands and objects one frame's state holds. */
export const MAX_HANDS = 2;
export const MAX_OBJECTS = 3;

/** Input side of the landmark model. */
export const LANDMARK_INPUT = 224;
/** The detector's box is widened by this much before the landmark crop (MediaPipe's habit: the box is tight). */
export const DETECT_BOX_EXPAND = 1.4;
/**
 * A tracked hand's next crop: the square around its keypoints, widened by this much, and never
 * smaller than TRACK_BOX_MIN of the frame. Tighter crops shrink frame after frame onto a poor
 * first guess until the keypoints collapse to a point (measured on the real dev clips).
 */
export const TRACK_BOX_EXPAND = 2;
export const TRACK_BOX_MIN = 0.15;

/** The backbone node whose mean over H and W is the per-frame 480-d feature. */
export const BACKBONE_NODE = 'tower_0/extern1/hard_swish/mul_1';
export const BACKBONE_WIDTH = 480;
/** Side of the square frame the backbone feature is taken at, in training, evaluation and live alike. */
export const BACKBONE_INPUT = 224;
/**
 * Frames per backbone call: a batch of 2–4 costs about a fifth less per frame than one at a time on
 * wasm (`npm run bench -- perception`), and more only holds more memory (0.6 MB of input a frame).
 */
export const BACKBONE_BATCH = 4;
export const DETECTIONS_NODE = 'tower_0/detections';
/** The detection head has fixed upsampling shapes: it runs only at the 512×512 it was exported for. */
export const DETECT_INPUT = 512;
