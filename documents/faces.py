"""The faces of the official layout: one role per face GB/T 9704-2012 names, and the file each prints with.

The standard names its faces by their Chinese names: 仿宋 (正文, 版记), 小标宋 (发文机关标志, 标题), 黑体
(份号, 密级, 紧急程度, first-level headings 一、), 楷体 (second-level headings （一）, the 签发人's name)
and 宋体 (page numbers). documents/official.css names each role by a family of its own ("Official
Fang", …) followed by the free face of the role and then Noto CJK, for the characters a face lacks.

The free faces are the Fandol family, which scripts/official-fonts.sh installs: FandolFang,
FandolHei, FandolKai and FandolSong. No free face has the shapes of 方正小标宋: FandolSong Bold stands
in for it. A deployment holding the licensed faces names their directory in OFFICIAL_FONTS_DIR, and a
file there (ROLES: the names each face's file goes by) takes the role's place.

For WeasyPrint, font_face_rules() declares each role's family by @font-face with its file, by absolute
file:// URL: the licensed file when there is one, else the Fandol file. By file, not by family name:
fontconfig rates FandolSong Bold "regular" as FandolSong Regular is, and may give either for
"FandolSong". A browser shows the web page without these rules (the page serves no font, and the
Content-Security-Policy allows no inline style): the role's family names nothing there, and the browser
takes the next one, the Fandol face if installed, then Noto CJK.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# Where scripts/official-fonts.sh puts the Fandol faces.
FANDOL_DIR = Path("/usr/local/share/fonts/fandol")
_FONT_SUFFIXES = (".ttf", ".otf")


@dataclass(frozen=True)
class Role:
    family: str  # the CSS family official.css names
    face: str  # the face GB/T 9704 asks for
    free_file: str  # the Fandol face that stands in for it (in FANDOL_DIR)
    # The file names (without .ttf/.otf, any case) the licensed face goes by, looked for in that order.
    licensed_names: tuple[str, ...]
    weight: str = "normal"  # as official.css asks for it


ROLES: tuple[Role, ...] = (
    Role("Official Fang", "仿宋_GB2312", "FandolFang-Regular.otf", ("仿宋_GB2312", "FangSong_GB2312", "simfang")),
    # 小标宋 is a heavy face; official.css asks for bold so that a browser's Noto fallback is heavy too.
    Role("Official XBS", "方正小标宋简体", "FandolSong-Bold.otf", ("方正小标宋简体", "FZXBSJW", "FZXBSK"), "bold"),
    Role("Official Hei", "黑体", "FandolHei-Regular.otf", ("黑体", "SimHei")),
    Role("Official Kai", "楷体_GB2312", "FandolKai-Regular.otf", ("楷体_GB2312", "KaiTi_GB2312", "simkai")),
    Role("Official Song", "宋体", "FandolSong-Regular.otf", ("宋体", "SimSun")),
)


def role_file(role: Role, licensed_dir: Path | None) -> Path | None:
    """The file the role prints with: a licensed face in `licensed_dir`, else the Fandol face, else None."""
    if licensed_dir is not None and licensed_dir.is_dir():
        files = {path.name.lower(): path for path in licensed_dir.iterdir() if path.suffix.lower() in _FONT_SUFFIXES}
        for name in role.licensed_names:
            for suffix in _FONT_SUFFIXES:
                if (found := files.get(f"{name}{suffix}".lower())) is not None:
                    return found
    free = FANDOL_DIR / role.free_file
    return free if free.is_file() else None


def font_face_rules() -> str:
    """@font-face rules declaring each role's family with its file (settings.OFFICIAL_FONTS_DIR first).

    A role with no file is left undeclared: official.css then falls back to the next family (Noto CJK).
    """
    licensed_dir = Path(settings.OFFICIAL_FONTS_DIR) if settings.OFFICIAL_FONTS_DIR else None
    rules = []
    for role in ROLES:
        path = role_file(role, licensed_dir)
        if path is not None:
            rules.append(
                f'@font-face {{ font-family: "{role.family}"; src: url("{path.resolve().as_uri()}"); '
                f"font-weight: {role.weight}; }}"
            )
    return "\n".join(rules)
