"""The theme: the style sheet on the chrome and the station's windows
(``hmi.widgets.theme.chrome``), the screen widgets' colours read from the same file
(``colors``) and worn as palettes and cached pictures (``dress``), and which dynamic properties
the style sheet selects on (``selectors``). Import from the modules."""
