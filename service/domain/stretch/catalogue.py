"""The stretch and core catalogue, in our own words.

Evidence labels: exercise therapy helps non-specific low back pain (Hayden et al. 2021, Cochrane);
Pilates and strength or stabilisation work did best among exercise types (Owen et al. 2020, BJSM):
"E". Stretching alone eases stiffness but does not prevent running injuries (Lauersen et al. 2014,
BJSM): "comfort". Doses follow ACSM guidance: holds of 10 to 30 s, 2 to 4 times.
"""

from __future__ import annotations

from dataclasses import dataclass

LOWER_BACK, HIPS, UPPER_MID_BACK, SACROILIAC = "lower_back", "hips", "upper_mid_back", "sacroiliac"
AREAS = (LOWER_BACK, HIPS, UPPER_MID_BACK, SACROILIAC)
OWEN_2020 = "Owen et al., Br J Sports Med 2020"
LAUERSEN_2014 = "Lauersen et al., Br J Sports Med 2014"


@dataclass(frozen=True)
class Routine:
    id: str
    name: str
    area: str
    focus: str  # core, strength, stretch, mobility
    steps: tuple[str, ...]
    dose: str
    minutes: int
    evidence: str  # "E" (exercise therapy) or "comfort" (stretching alone)
    source: str


def _core(id_: str, name: str, area: str, steps: tuple[str, ...], dose: str,
          minutes: int = 3) -> Routine:
    return Routine(id_, name, area, "core", steps, dose, minutes, "E", OWEN_2020)


def _stretch(id_: str, name: str, area: str, steps: tuple[str, ...],
             dose: str = "Hold 20 to 30 s, 2 to 4 times each side", minutes: int = 2) -> Routine:
    return Routine(id_, name, area, "stretch", steps, dose, minutes, "comfort", LAUERSEN_2014)


CATALOGUE: tuple[Routine, ...] = (
    _core("dead-bug", "Dead bug", LOWER_BACK, (
        "Lie on your back, knees bent above your hips, arms pointing at the ceiling.",
        "Press your lower back gently into the floor and keep it there.",
        "Lower the opposite arm and leg towards the floor as you breathe out, then return.",
    ), "8 slow reps each side, 2 rounds"),
    _core("bird-dog", "Bird dog", LOWER_BACK, (
        "Kneel on all fours, hands under shoulders, knees under hips.",
        "Reach one arm forward and the opposite leg back until both are level with your body.",
        "Hold for a breath without letting your hips tip, then switch sides.",
    ), "8 reps each side with a 3 s hold, 2 rounds"),
    Routine("glute-bridge", "Glute bridge", LOWER_BACK, "strength", (
        "Lie on your back with knees bent and feet flat, hip-width apart.",
        "Squeeze your buttocks and lift your hips until knees, hips and shoulders line up.",
        "Pause at the top, then lower slowly.",
    ), "10 to 12 reps with a 2 s pause, 2 rounds", 3, "E", OWEN_2020),
    _core("side-plank", "Side plank", LOWER_BACK, (
        "Lie on your side, propped on your forearm, knees bent to start.",
        "Lift your hips so your body makes a straight line from knees to head.",
        "Breathe steadily; straighten your legs when the bent-knee version feels easy.",
    ), "Hold 15 to 30 s each side, 2 to 3 times"),
    _stretch("knee-to-chest", "Knee to chest", LOWER_BACK, (
        "Lie on your back and draw one knee towards your chest with both hands.",
        "Keep the other leg relaxed, bent or straight, and your shoulders on the floor.",
        "Breathe out and let your lower back lengthen; no bouncing.",
    )),
    _stretch("half-kneeling-hip-flexor", "Half-kneeling hip flexor", HIPS, (
        "Kneel on one knee with the other foot flat in front, both knees at right angles.",
        "Tuck your pelvis under and squeeze the buttock of the kneeling leg.",
        "Shift forward a little until you feel a stretch at the front of the hip.",
    )),
    _stretch("lying-hamstring-strap", "Lying hamstring with a strap", HIPS, (
        "Lie on your back and loop a strap or towel around one foot.",
        "Straighten that leg towards the ceiling until you feel the back of the thigh.",
        "Keep the other leg long on the floor and your lower back relaxed.",
    )),
    _stretch("figure-four-piriformis", "Figure-4 piriformis", HIPS, (
        "Lie on your back, knees bent, and cross one ankle over the opposite knee.",
        "Hold the back of the lower thigh and draw both legs towards you.",
        "Feel the stretch deep in the buttock of the crossed leg.",
    )),
    Routine("clamshell", "Clamshell", HIPS, "strength", (
        "Lie on your side with hips and knees bent, feet together.",
        "Keeping your feet touching, lift the top knee without rolling your pelvis back.",
        "Lower slowly.",
    ), "12 to 15 reps each side, 2 rounds", 3, "E", OWEN_2020),
    Routine("open-book", "Open book", UPPER_MID_BACK, "mobility", (
        "Lie on your side, knees bent, arms straight out in front with palms together.",
        "Open the top arm in an arc to the other side, following it with your eyes.",
        "Let your upper back rotate while your knees stay together; return slowly.",
    ), "8 slow reps each side", 2, "comfort", LAUERSEN_2014),
    Routine("cat-camel", "Cat-camel", UPPER_MID_BACK, "mobility", (
        "Kneel on all fours.",
        "Round your back up towards the ceiling as you breathe out.",
        "Then let it dip gently as you breathe in; move through a comfortable range.",
    ), "10 slow cycles", 2, "comfort", LAUERSEN_2014),
    Routine("prone-y-t-raises", "Prone Y and T raises", UPPER_MID_BACK, "strength", (
        "Lie face down, forehead on a folded towel, arms overhead in a Y, thumbs up.",
        "Lift both arms a few centimetres by drawing your shoulder blades down and back.",
        "Lower, then repeat with arms out to the sides in a T.",
    ), "8 reps of each shape, 2 rounds", 3, "E", OWEN_2020),
    Routine("shoulders-relaxed-drill", "Shoulders-relaxed posture drill", UPPER_MID_BACK,
            "mobility", (
                "Stand tall as if running, arms bent at your sides.",
                "Shrug your shoulders up to your ears, then let them drop and slide back.",
                "Swing your arms loosely from the shoulder for 30 s, keeping the neck soft.",
            ), "5 shrugs, then 30 s of easy arm swing, 3 times", 2, "comfort", LAUERSEN_2014),
    Routine("adductor-squeeze", "Adductor squeeze", SACROILIAC, "strength", (
        "Lie on your back, knees bent, with a cushion or ball between your knees.",
        "Squeeze the cushion gently and hold, breathing normally.",
        "Relax fully between squeezes.",
    ), "Hold 5 to 10 s, 8 to 10 times", 2, "E", OWEN_2020),
    _core("pelvic-tilt", "Pelvic tilt", SACROILIAC, (
        "Lie on your back, knees bent, feet flat.",
        "Flatten your lower back into the floor by tilting your pelvis, as you breathe out.",
        "Release to neutral as you breathe in.",
    ), "10 to 15 slow tilts", 2),
    Routine("knee-rocks", "Knee rocks", SACROILIAC, "mobility", (
        "Lie on your back, knees bent and together, feet flat.",
        "Let both knees sway slowly to one side, only as far as is comfortable.",
        "Bring them back through the middle and over to the other side.",
    ), "10 slow rocks each way", 2, "comfort", LAUERSEN_2014),
)

BY_ID = {routine.id: routine for routine in CATALOGUE}
