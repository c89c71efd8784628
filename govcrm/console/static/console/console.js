// Marks the page as scripted, so that controls which need JavaScript (e.g. the category search)
// are shown only where they work. Everything else works without JavaScript.
document.documentElement.classList.add("js");
