"""MediaPipe FaceMesh landmark groups (478 points: 468 mesh + 10 iris), ordered as contours.

Image convention: x right, y down; "right eye" is the subject's right (image left).
`tests/test_topology.py` checks every group against mediapipe's own connection sets.
"""

N_LANDMARKS = 478

LIPS_OUTER_UPPER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LIPS_OUTER_LOWER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
LIPS_INNER_UPPER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LIPS_INNER_LOWER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
MOUTH_CORNERS = (61, 291)
#: Where the lips meet: the outer corners and the inner ones (the ends of the inner contours). Both lips own them.
LIP_CORNERS = (*MOUTH_CORNERS, LIPS_INNER_UPPER[0], LIPS_INNER_UPPER[-1])

# Eyelids run from the outer corner to the inner corner; upper[i] closes onto lower[i].
RIGHT_EYE_UPPER = [33, 246, 161, 160, 159, 158, 157, 173, 133]
RIGHT_EYE_LOWER = [33, 7, 163, 144, 145, 153, 154, 155, 133]
LEFT_EYE_UPPER = [263, 466, 388, 387, 386, 385, 384, 398, 362]
LEFT_EYE_LOWER = [263, 249, 390, 373, 374, 380, 381, 382, 362]
RIGHT_IRIS = [468, 469, 470, 471, 472]  # centre first
LEFT_IRIS = [473, 474, 475, 476, 477]

RIGHT_BROW = [46, 53, 52, 65, 55, 70, 63, 105, 66, 107]
LEFT_BROW = [276, 283, 282, 295, 285, 300, 293, 334, 296, 336]

FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109]
FOREHEAD, CHIN = 10, 152

NOSE = [1, 2, 4, 5, 6, 19, 45, 48, 64, 94, 97, 98, 115, 168, 195, 197, 220, 275, 278, 294,
        326, 327, 344, 440]

# Points that move with the skull only: nose, eye corners and the upper half of the face oval.
RIGID = sorted(set(NOSE) | {33, 133, 263, 362} | {
    10, 338, 297, 332, 284, 251, 389, 356, 454, 234, 127, 162, 21, 54, 103, 67, 109})


def inner_lip_loop() -> list[int]:
    """Closed inner-lip contour: upper lip left to right, then lower lip right to left."""
    return LIPS_INNER_UPPER + LIPS_INNER_LOWER[-2:0:-1]
