"""A Tk window with a given WM_CLASS and title, and a text field that takes keys.

Run by the e2e tests: `python tkwindow.py CLASS TITLE`.
"""

from __future__ import annotations

import sys
import tkinter as tk


def main() -> None:
    """Show the window until killed."""
    class_name, title = sys.argv[1], sys.argv[2]
    root = tk.Tk(className=class_name)
    root.title(title)
    root.geometry("400x200+100+100")
    entry = tk.Text(root)
    entry.pack(fill="both", expand=True)
    entry.focus_set()
    root.mainloop()


if __name__ == "__main__":
    main()
