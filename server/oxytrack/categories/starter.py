"""What a new server starts with: the starter categories and the built-in app names.

The data migration and the "reset" buttons copy these into the database,
where the super-admin edits them. App names arrive as each agent reports
them: Windows the executable (the current agent drops ".exe", older data
and the demo keep it: "WINWORD.EXE"), macOS the application's localised
name ("Microsoft Word"), Linux the window's WM_CLASS class ("firefox",
"Google-chrome", "libreoffice-writer"). Patterns and keys cover the three.
"""

from __future__ import annotations

from typing import NamedTuple


class StarterCategory(NamedTuple):
    name: str
    colour: str
    app_pattern: str
    title_pattern: str


#: The starter care rule's title pattern (migration 0005 brought existing rules to it).
CARE_TITLE_PATTERN = (
    r"apologic|intranet oxytrack|ameli ?pro|netsoins|medimust|dossiers? (de )?soins"
    r"|dossiers? patients?|dmp\b|mon espace sant[ée]|^logiciel de soins$"
)

# In matching order: the first that matches wins. Care software comes first
# because it often runs in a browser (the title tells it apart from "Web"),
# meetings before e-mail and office because Teams and Outlook overlap.
# Every app pattern is anchored (^...$) on the whole name, an optional
# ".exe" after it, so "excel" never matches "excellence.exe".
STARTER_CATEGORIES: tuple[StarterCategory, ...] = (
    StarterCategory(
        "Logiciel de soins",
        "#2ca02c",
        "",
        # The demo's intranet and Ameli pro, and care packages for home care; and
        # the title the agent's default redaction gives their windows on the PC
        # (its "Logiciels de soins" rules replace it with the category's name).
        CARE_TITLE_PATTERN,
    ),
    StarterCategory(
        "Réunions",
        "#9467bd",
        r"^(ms-teams|teams|microsoft teams|msteams|teams-for-linux|com\.microsoft\.teams2?"
        r"|zoom|zoom\.us|us\.zoom\.xos|webex|ciscowebex|cisco webex meetings|webexmta"
        r"|com\.cisco\.webexmeetingsapp|gotomeeting|g2mstart|skype|lync|slack"
        r"|com\.tinyspeck\.slackmacgap|jitsi meet)(\.exe)?$",
        "",
    ),
    StarterCategory(
        "Messagerie",
        "#1f77b4",
        r"^(outlook|olk|hxoutlook|microsoft outlook|com\.microsoft\.outlook|thunderbird"
        r"|mozilla thunderbird|mail|com\.apple\.mail|evolution|geary|mailspring"
        r"|org\.gnome\.evolution)(\.exe)?$",
        "",
    ),
    StarterCategory(
        "Bureautique",
        "#ff7f0e",
        r"^(winword|excel|powerpnt|onenote|msaccess|mspub|visio|microsoft (word|excel"
        r"|powerpoint|onenote)|com\.microsoft\.(word|excel|powerpoint|onenote\.mac)"
        r"|soffice|soffice\.bin|swriter|scalc|simpress|libreoffice(-\w+)?"
        r"|pages|numbers|keynote|com\.apple\.iwork\.(pages|numbers|keynote)"
        r"|acrobat|acrord32|adobe acrobat( reader)?|foxitpdfreader|foxitreader|sumatrapdf"
        r"|evince|okular|org\.gnome\.evince|preview|aperçu|com\.apple\.preview|notepad|notepad\+\+"
        r"|wordpad|textedit|gedit|org\.gnome\.texteditor|gnome-text-editor)(\.exe)?$",
        "",
    ),
    StarterCategory(
        "Web",
        "#17becf",
        r"^(chrome|google chrome|google-chrome|com\.google\.chrome|chromium|chromium-browser"
        r"|firefox|navigator|org\.mozilla\.firefox|msedge|microsoft edge|microsoft-edge"
        r"|com\.microsoft\.edgemac|iexplore|safari|com\.apple\.safari|brave|brave-browser"
        r"|opera|vivaldi)(\.exe)?$",
        "",
    ),
    StarterCategory(
        "Autre",
        "#7f7f7f",
        # The computer itself: files, settings, terminals. Whatever matches no
        # rule stays "Non classé", so a new app is seen rather than hidden here.
        r"^(explorer|finder|com\.apple\.finder|nautilus|org\.gnome\.nautilus|dolphin|thunar"
        r"|nemo|desktop|bureau|taskmgr|systemsettings|control|mmc|cmd|powershell|pwsh"
        r"|windowsterminal|conhost|terminal|com\.apple\.terminal|gnome-terminal"
        r"|gnome-terminal-server|konsole|xterm|system preferences|system settings"
        r"|gnome-control-center|searchhost|searchapp|shellexperiencehost"
        r"|startmenuexperiencehost|lockapp)(\.exe)?$",
        "",
    ),
)

# Match key (names.app_key: lower case, no ".exe") -> the name managers read.
BUILTIN_APP_NAMES: dict[str, str] = {
    # Microsoft 365, Windows executables.
    "winword": "Word",
    "excel": "Excel",
    "powerpnt": "PowerPoint",
    "outlook": "Outlook",
    "olk": "Outlook",
    "hxoutlook": "Courrier Windows",
    "onenote": "OneNote",
    "msaccess": "Access",
    "mspub": "Publisher",
    "visio": "Visio",
    "ms-teams": "Microsoft Teams",
    "teams": "Microsoft Teams",
    "msteams": "Microsoft Teams",
    "lync": "Skype Entreprise",
    "onedrive": "OneDrive",
    # Microsoft 365, macOS names and bundle ids.
    "microsoft word": "Word",
    "microsoft excel": "Excel",
    "microsoft powerpoint": "PowerPoint",
    "microsoft outlook": "Outlook",
    "microsoft onenote": "OneNote",
    "microsoft teams": "Microsoft Teams",
    "com.microsoft.word": "Word",
    "com.microsoft.excel": "Excel",
    "com.microsoft.powerpoint": "PowerPoint",
    "com.microsoft.outlook": "Outlook",
    "com.microsoft.teams": "Microsoft Teams",
    "com.microsoft.teams2": "Microsoft Teams",
    "teams-for-linux": "Microsoft Teams",
    # Browsers.
    "chrome": "Google Chrome",
    "google-chrome": "Google Chrome",
    "com.google.chrome": "Google Chrome",
    "chromium": "Chromium",
    "chromium-browser": "Chromium",
    "firefox": "Firefox",
    "navigator": "Firefox",
    "org.mozilla.firefox": "Firefox",
    "msedge": "Microsoft Edge",
    "microsoft-edge": "Microsoft Edge",
    "com.microsoft.edgemac": "Microsoft Edge",
    "iexplore": "Internet Explorer",
    "com.apple.safari": "Safari",
    "brave": "Brave",
    "brave-browser": "Brave",
    "opera": "Opera",
    "vivaldi": "Vivaldi",
    # Mail.
    "thunderbird": "Thunderbird",
    "mozilla thunderbird": "Thunderbird",
    "com.apple.mail": "Mail",
    "evolution": "Evolution",
    "org.gnome.evolution": "Evolution",
    # Meetings.
    "zoom": "Zoom",
    "zoom.us": "Zoom",
    "us.zoom.xos": "Zoom",
    "ciscowebex": "Webex",
    "webex": "Webex",
    "cisco webex meetings": "Webex",
    "com.cisco.webexmeetingsapp": "Webex",
    "skype": "Skype",
    "slack": "Slack",
    "com.tinyspeck.slackmacgap": "Slack",
    # LibreOffice and other office tools.
    "soffice": "LibreOffice",
    "soffice.bin": "LibreOffice",
    "libreoffice": "LibreOffice",
    "libreoffice-writer": "LibreOffice Writer",
    "libreoffice-calc": "LibreOffice Calc",
    "libreoffice-impress": "LibreOffice Impress",
    "swriter": "LibreOffice Writer",
    "scalc": "LibreOffice Calc",
    "simpress": "LibreOffice Impress",
    "com.apple.iwork.pages": "Pages",
    "com.apple.iwork.numbers": "Numbers",
    "com.apple.iwork.keynote": "Keynote",
    "acrobat": "Adobe Acrobat",
    "acrord32": "Adobe Acrobat Reader",
    "foxitpdfreader": "Foxit PDF Reader",
    "sumatrapdf": "SumatraPDF",
    "evince": "Visionneuse de documents",
    "org.gnome.evince": "Visionneuse de documents",
    "okular": "Okular",
    "com.apple.preview": "Aperçu",
    "preview": "Aperçu",
    "notepad": "Bloc-notes",
    "notepad++": "Notepad++",
    "wordpad": "WordPad",
    "com.apple.textedit": "TextEdit",
    "gedit": "Éditeur de texte",
    "gnome-text-editor": "Éditeur de texte",
    # The system.
    "explorer": "Explorateur de fichiers",
    "com.apple.finder": "Finder",
    "nautilus": "Fichiers",
    "org.gnome.nautilus": "Fichiers",
    "dolphin": "Dolphin",
    "thunar": "Thunar",
    "taskmgr": "Gestionnaire des tâches",
    "systemsettings": "Paramètres",
    "control": "Panneau de configuration",
    "mmc": "Console de gestion",
    "cmd": "Invite de commandes",
    "powershell": "PowerShell",
    "pwsh": "PowerShell",
    "windowsterminal": "Terminal Windows",
    "com.apple.terminal": "Terminal",
    "gnome-terminal": "Terminal",
    "gnome-terminal-server": "Terminal",
    "konsole": "Konsole",
    "searchhost": "Recherche Windows",
    "searchapp": "Recherche Windows",
    "mstsc": "Bureau à distance",
    "snippingtool": "Outil Capture d'écran",
    # Care software.
    "apologicdomicile": "Apologic Domicile",
}
