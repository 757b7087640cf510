"""The console's words for the pages that run the business (the template picker, campaigns,
analytics, billing, the bot's prompt versions), in English and Spanish; ``i18n`` joins them to the
rest, and a test holds the languages equal."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "composer_closed_placeholder": "Free text is off until the customer writes again",
        "template_picker": "Send an approved template",
        "template_picker_none": "No approved template on this number. An admin creates them on the "
        "Templates page.",
        "template_header_value": "Header value",
        "template_media_link": "{kind} link (https; empty: the stored sample)",
        "template_body_value": "Value {number}",
        "template_button_value": "Button link value {number}",
        "template_send": "Send template",
        "template_send_named": "Send the template {name}",
        "template_sent": "Template sent.",
    },
    "es": {
        "composer_closed_placeholder": "El texto libre está desactivado hasta que el cliente vuelva a escribir",
        "template_picker": "Enviar una plantilla aprobada",
        "template_picker_none": "No hay plantillas aprobadas en este número. Un administrador las crea en la "
        "página de Plantillas.",
        "template_header_value": "Valor del encabezado",
        "template_media_link": "Enlace de {kind} (https; vacío: la muestra guardada)",
        "template_body_value": "Valor {number}",
        "template_button_value": "Valor del enlace del botón {number}",
        "template_send": "Enviar plantilla",
        "template_send_named": "Enviar la plantilla {name}",
        "template_sent": "Plantilla enviada.",
    },
}
