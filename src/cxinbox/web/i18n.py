"""The console's words in English and Spanish: one dictionary per language, the same keys in each
(a test holds them equal). The language is the person's choice (their profile's, or a cookie before
they sign in), else the browser's ``Accept-Language``, else English."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "sign_in_title": "Sign in to CX Inbox",
        "email": "Email",
        "password": "Password",
        "sign_in": "Sign in",
        "sign_in_failed": "Wrong email or password.",
        "use_code": "Sign in with a one-time code instead",
        "use_password": "Sign in with your password instead",
        "code_title": "Sign in with a one-time code",
        "send_code": "Email me a code",
        "code_sent": "If the address has an account, a 6-digit code is on its way. It expires in "
        "{minutes} minutes.",
        "code": "6-digit code",
        "code_failed": "The code is not valid.",
        "too_many": "Too many attempts. Try again in a few minutes.",
        "account_unavailable": "This account cannot sign in right now.",
        "form_expired": "The form expired. Reload the page and try again.",
        "sign_out": "Sign out",
        "language": "Language",
        "change_language": "Change language",
        "inbox": "Inbox",
        "conversations": "Conversations",
        "view": "Show",
        "view_all": "All",
        "view_mine": "Mine",
        "view_unassigned": "Unassigned",
        "status": "Status",
        "status_any": "Any open",
        "status_OPEN": "Open",
        "status_BOT_HANDLING": "With the bot",
        "status_HUMAN_HANDLING": "With an agent",
        "status_WAITING_FOR_CUSTOMER": "Waiting for the customer",
        "status_CLOSED": "Closed",
        "search": "Search",
        "search_placeholder": "Name, number or text",
        "apply": "Apply",
        "count_all": "All",
        "count_unread": "Unread",
        "count_needs_action": "Needs reply",
        "no_conversations": "No conversations here.",
        "unread_badge": "{n} unread",
        "choose_conversation": "Choose a conversation to read it.",
        "back_to_inbox": "Back to the inbox",
        "assigned_to": "Assigned to {name}",
        "unassigned": "Unassigned",
        "window_open": "Reply window open until {time} UTC",
        "window_closed": "The 24-hour window is closed: the customer has to write first.",
        "takeover": "Take over",
        "assign_to_me": "Assign to me",
        "close": "Close conversation",
        "message_label": "Reply",
        "send": "Send",
        "composer_placeholder": "Write a reply",
        "no_messages": "No messages yet.",
        "sender_CUSTOMER": "Customer",
        "sender_AGENT": "Agent",
        "sender_BOT": "Bot",
        "sender_SYSTEM": "System",
        "message_status_RECEIVED": "Received",
        "message_status_PENDING": "Sending",
        "message_status_SENT": "Sent",
        "message_status_DELIVERED": "Delivered",
        "message_status_READ": "Read",
        "message_status_FAILED": "Failed",
        "failed_reason": "Not delivered: {reason}",
        "open_attachment": "Open the attachment ({name})",
        "image_alt": "Image sent by {name}",
        "media_pending": "The attachment is downloading.",
        "media_failed": "The attachment could not be downloaded.",
        "location": "Location: {latitude}, {longitude}",
        "reaction": "Reacted {emoji}",
        "other_type": "A {type} message",
        "no_organization": "This account belongs to no organization, and the inbox is an "
        "organization's: enter one first.",
        "not_found": "This conversation does not exist, or you may not see it.",
        "already_assigned": "Someone else already has this conversation.",
        "conversation_closed": "The conversation is closed.",
        "not_possible": "That change is not possible now.",
        "action_failed": "That did not work: {message}",
        "signed_in_as": "Signed in as {name}",
        "earlier_messages": "Earlier messages",
        "team": "Team",
        "admins_only": "Only an organization's admins manage its team.",
        "invite": "Invite someone",
        "name": "Name",
        "role": "Role",
        "role_ADMIN": "Admin",
        "role_SUPERVISOR": "Supervisor",
        "role_AGENT": "Agent",
        "role_SUPER_ADMIN": "Platform operator",
        "send_invitation": "Send invitation",
        "invite_sent": "Invitation sent to {email}.",
        "invite_invalid": "Check the email address and the name.",
        "people": "People",
        "state": "State",
        "active": "Active",
        "inactive": "Inactive",
        "pending_invitations": "Pending invitations",
        "no_invitations": "No pending invitations.",
        "expires": "Expires",
    },
    "es": {
        "sign_in_title": "Entrar en CX Inbox",
        "email": "Correo electrónico",
        "password": "Contraseña",
        "sign_in": "Entrar",
        "sign_in_failed": "Correo o contraseña incorrectos.",
        "use_code": "Entrar con un código de un solo uso",
        "use_password": "Entrar con tu contraseña",
        "code_title": "Entrar con un código de un solo uso",
        "send_code": "Enviarme un código",
        "code_sent": "Si la dirección tiene una cuenta, te enviamos un código de 6 dígitos. Caduca en "
        "{minutes} minutos.",
        "code": "Código de 6 dígitos",
        "code_failed": "El código no es válido.",
        "too_many": "Demasiados intentos. Inténtalo de nuevo en unos minutos.",
        "account_unavailable": "Esta cuenta no puede entrar ahora.",
        "form_expired": "El formulario caducó. Recarga la página e inténtalo de nuevo.",
        "sign_out": "Salir",
        "language": "Idioma",
        "change_language": "Cambiar idioma",
        "inbox": "Bandeja",
        "conversations": "Conversaciones",
        "view": "Mostrar",
        "view_all": "Todas",
        "view_mine": "Mías",
        "view_unassigned": "Sin asignar",
        "status": "Estado",
        "status_any": "Cualquiera abierta",
        "status_OPEN": "Abierta",
        "status_BOT_HANDLING": "Con el bot",
        "status_HUMAN_HANDLING": "Con un agente",
        "status_WAITING_FOR_CUSTOMER": "Esperando al cliente",
        "status_CLOSED": "Cerrada",
        "search": "Buscar",
        "search_placeholder": "Nombre, número o texto",
        "apply": "Aplicar",
        "count_all": "Todas",
        "count_unread": "No leídas",
        "count_needs_action": "Por responder",
        "no_conversations": "No hay conversaciones aquí.",
        "unread_badge": "{n} sin leer",
        "choose_conversation": "Elige una conversación para leerla.",
        "back_to_inbox": "Volver a la bandeja",
        "assigned_to": "Asignada a {name}",
        "unassigned": "Sin asignar",
        "window_open": "Ventana de respuesta abierta hasta las {time} UTC",
        "window_closed": "La ventana de 24 horas está cerrada: el cliente tiene que escribir primero.",
        "takeover": "Tomar la conversación",
        "assign_to_me": "Asignármela",
        "close": "Cerrar la conversación",
        "message_label": "Respuesta",
        "send": "Enviar",
        "composer_placeholder": "Escribe una respuesta",
        "no_messages": "Aún no hay mensajes.",
        "sender_CUSTOMER": "Cliente",
        "sender_AGENT": "Agente",
        "sender_BOT": "Bot",
        "sender_SYSTEM": "Sistema",
        "message_status_RECEIVED": "Recibido",
        "message_status_PENDING": "Enviando",
        "message_status_SENT": "Enviado",
        "message_status_DELIVERED": "Entregado",
        "message_status_READ": "Leído",
        "message_status_FAILED": "Falló",
        "failed_reason": "No entregado: {reason}",
        "open_attachment": "Abrir el adjunto ({name})",
        "image_alt": "Imagen enviada por {name}",
        "media_pending": "El adjunto se está descargando.",
        "media_failed": "No se pudo descargar el adjunto.",
        "location": "Ubicación: {latitude}, {longitude}",
        "reaction": "Reaccionó {emoji}",
        "other_type": "Un mensaje de tipo {type}",
        "no_organization": "Esta cuenta no pertenece a ninguna organización, y la bandeja es de una "
        "organización: entra primero en una.",
        "not_found": "Esta conversación no existe, o no puedes verla.",
        "already_assigned": "Otra persona ya tiene esta conversación.",
        "conversation_closed": "La conversación está cerrada.",
        "not_possible": "Ese cambio no es posible ahora.",
        "action_failed": "No se pudo: {message}",
        "signed_in_as": "Sesión de {name}",
        "earlier_messages": "Mensajes anteriores",
        "team": "Equipo",
        "admins_only": "Solo los administradores de la organización gestionan su equipo.",
        "invite": "Invitar a alguien",
        "name": "Nombre",
        "role": "Rol",
        "role_ADMIN": "Administrador",
        "role_SUPERVISOR": "Supervisor",
        "role_AGENT": "Agente",
        "role_SUPER_ADMIN": "Operador de la plataforma",
        "send_invitation": "Enviar invitación",
        "invite_sent": "Invitación enviada a {email}.",
        "invite_invalid": "Revisa el correo electrónico y el nombre.",
        "people": "Personas",
        "state": "Estado",
        "active": "Activa",
        "inactive": "Inactiva",
        "pending_invitations": "Invitaciones pendientes",
        "no_invitations": "No hay invitaciones pendientes.",
        "expires": "Caduca",
    },
}


def choose_language(chosen: str | None, accept_language: str | None) -> str:
    """The visitor's chosen language if we have it, else the first of ``Accept-Language`` we have
    (by its q-values), else English."""
    if chosen in MESSAGES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().split("-")[0].lower()))
    for quality, _, language in sorted(ranked):
        if quality < 0 and language in MESSAGES:
            return language
    return DEFAULT


@dataclass(frozen=True)
class Translator:
    language: str

    @property
    def messages(self) -> Mapping[str, str]:
        return MESSAGES[self.language]

    def __call__(self, key: str, **values: object) -> str:
        text = self.messages[key]
        return text.format(**values) if values else text
