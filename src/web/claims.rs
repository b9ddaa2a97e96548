//! Filing a claim in the browser: pick the problem, answer the questions fitted to it.
//!
//! Signed-in customers file under their account. Anyone else gives an email address; the case
//! is matched at once, and an emailed one-time link proves the address, signs them in (a
//! customer account is made for the address if there is none) and opens the case.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::auth::limits::EmailingForm;
use crate::auth::{password, token};
use crate::cases::{self, CLAIM_ACCESS_PURPOSE, Contact, Filed};
use crate::db::email_tokens::{self};
use crate::db::users::{self, CreateUserError, NewUser};
use crate::domain::account::EmailAddress;
use crate::domain::claim::{ClaimInput, ClaimKind, Occurred};
use crate::domain::money::Currency;
use crate::domain::role::Role;
use crate::web::account::ClientIp;
use crate::web::forms::FieldErrors;
use crate::web::pages::message::MessagePage;
use crate::web::screen::Refused;
use crate::web::session::{self, CurrentUser};
// The address a claim filed without an account was sent to, for the page after the redirect.
use crate::web::status::SENT_TO_COOKIE;
use crate::web::{AppError, AppState, PageContext};

/// Currencies offered in the form (any ISO 4217 code is accepted through the API).
const CURRENCIES: &[&str] = &["CNY", "HKD", "USD", "EUR", "JPY", "GBP", "KRW", "SGD"];

#[derive(Template, WebTemplate)]
#[template(path = "claims/choose.html")]
pub struct ChoosePage {
    ctx: PageContext,
    kinds: [ClaimKind; 4],
}

pub async fn choose(ctx: PageContext) -> Response {
    if files_no_claims(&ctx) {
        return staff_page(ctx).into_response();
    }
    ChoosePage { ctx, kinds: ClaimKind::ALL }.into_response()
}

/// Staff accounts file no claims (the form would only answer 403 on submit, issue 15 item 8).
fn files_no_claims(ctx: &PageContext) -> bool {
    ctx.user.as_ref().is_some_and(|u| u.role != Role::Customer)
}

fn staff_page(ctx: PageContext) -> (StatusCode, MessagePage) {
    (StatusCode::FORBIDDEN, MessagePage::new(ctx, "reading.claims.staff.title", "reading.claims.staff.body"))
}

/// What the person typed, kept to show the form again.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ClaimForm {
    #[serde(default)]
    pub card_last4: String,
    #[serde(default)]
    pub card_first6: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub expected_amount: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub merchant_id: String,
    #[serde(default)]
    pub terminal_id: String,
    #[serde(default)]
    pub merchant_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub contact_email: String,
    /// One-time token of this form (§6): a reload or a double click files the claim once.
    #[serde(default)]
    pub filing_token: String,
    /// Set by the language switch, which submits this form (issue 15 item 6): show the form
    /// again in that language with everything typed kept, and file nothing.
    #[serde(default)]
    pub switch_lang: String,
}

/// The id of the claim form, which the language switch submits on its page.
const CLAIM_FORM_ID: &str = "claim-form";

#[derive(Template, WebTemplate)]
#[template(path = "claims/form.html")]
pub struct FormPage {
    ctx: PageContext,
    kind: ClaimKind,
    form: ClaimForm,
    errors: FieldErrors,
    currencies: &'static [&'static str],
    signed_in: bool,
}

impl FormPage {
    /// A catalog key for this kind: `prefix.<kind>`.
    fn key(&self, prefix: &str) -> String {
        format!("{prefix}.{}", self.kind.as_str())
    }
}

pub async fn show_form(ctx: PageContext, Path(kind): Path<String>) -> Result<Response, AppError> {
    let kind = ClaimKind::parse(&kind).ok_or_else(AppError::not_found)?;
    if files_no_claims(&ctx) {
        return Ok(staff_page(ctx).into_response());
    }
    let signed_in = ctx.user.is_some();
    let form = ClaimForm { currency: "CNY".into(), filing_token: token::generate(), ..Default::default() };
    let ctx = PageContext { lang_form: Some(CLAIM_FORM_ID), ..ctx };
    Ok(FormPage { ctx, kind, form, errors: FieldErrors::default(), currencies: CURRENCIES, signed_in }.into_response())
}

/// A date, and optionally a time read in the deployment's zone, as the claim's `occurred_at`.
fn occurred_text(form: &ClaimForm, tz: &jiff::tz::TimeZone) -> String {
    Occurred::text_from_parts(&form.date, &form.time, tz)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ctx: PageContext,
    user: Option<Extension<CurrentUser>>,
    Path(kind): Path<String>,
    refused: Refused,
    Form(form): Form<ClaimForm>,
) -> Result<Response, AppError> {
    let kind = ClaimKind::parse(&kind).ok_or_else(AppError::not_found)?;
    let user = user.map(|Extension(u)| u);
    if user.as_ref().is_some_and(|u| u.role != Role::Customer) {
        return Err(AppError::forbidden());
    }
    let ctx = PageContext { lang_form: Some(CLAIM_FORM_ID), ..ctx };
    if let Some(lang) = crate::i18n::Lang::parse(&form.switch_lang) {
        // The same form, in the other language, as typed; the choice is remembered as /lang does.
        let cookie = crate::web::pages::lang::remember(&state, user.as_ref(), lang).await?;
        let ctx = PageContext { lang, ..ctx };
        let form = ClaimForm { switch_lang: String::new(), ..form };
        let mut errors = FieldErrors::default();
        refused.explain(&mut errors, lang);
        let page = FormPage { ctx, kind, form, errors, currencies: CURRENCIES, signed_in: user.is_some() };
        return Ok(([(header::SET_COOKIE, cookie)], page).into_response());
    }
    let occurred = occurred_text(&form, &state.config.timezone);
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let input = ClaimInput {
        kind: Some(kind.as_str().into()),
        card_last4: opt(&form.card_last4),
        card_first6: opt(&form.card_first6),
        amount: opt(&form.amount),
        currency: opt(&form.currency),
        expected_amount: if kind == ClaimKind::WrongAmount { opt(&form.expected_amount) } else { None },
        occurred_at: opt(&occurred),
        merchant_id: opt(&form.merchant_id),
        terminal_id: opt(&form.terminal_id),
        merchant_name: opt(&form.merchant_name),
        description: opt(&form.description),
    };
    let mut errors = FieldErrors::default();
    let claim = input.validate(Currency::CNY, jiff::Timestamp::now());
    if let Err(problems) = &claim {
        for p in problems {
            let field = match p.field.as_str() {
                "occurred_at" => "date",
                other => other,
            };
            errors.add(field, ctx.lang.t_args(&p.message_key(), &p.args()));
        }
    }
    let email = match &user {
        Some(u) => EmailAddress::parse(&u.email).ok(),
        None => match EmailAddress::parse(&form.contact_email) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.add_code(ctx.lang, "contact_email", e.code(), &e.args());
                None
            }
        },
    };
    // Fields refused at the door arrive emptied: say why, in place of "required".
    refused.explain(&mut errors, ctx.lang);
    let (Ok(claim), Some(email), true) = (claim, email, errors.is_empty()) else {
        let page = FormPage { ctx, kind, form, errors, currencies: CURRENCIES, signed_in: user.is_some() };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };

    let contact = Contact {
        email: email.as_str().to_owned(),
        user_id: user.as_ref().map(|u| u.id),
        confirmed: user.is_some(),
        lang: ctx.lang,
    };
    // A token this server did not make cannot collide with another filer's: it is only a key.
    let token = form.filing_token.trim();
    let filing_key = (!token.is_empty()
        && token.len() <= 100
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| format!("web:{token}"));
    let filing = cases::Filing {
        claim: &claim,
        occurred_text: &occurred,
        contact: &contact,
        via: "web",
        token_id: None,
        filing_key: filing_key.as_deref(),
    };
    if user.is_none() {
        // Before filing: a claim refused by the limits leaves no case behind (DESIGN.md §12).
        state.limits.admit_emailing(&state.db, EmailingForm::FileWithoutAccount, client, &email).await??;
    }
    let filed = cases::file(&state.db, &state.match_context(), &filing).await?;
    // Redirect after POST: reloading the next page asks nothing again.
    let to = match (filed, user.is_some()) {
        (Filed::New(id), true) => format!("/cases/{id}"),
        (Filed::Existing(id), true) => format!("/cases/{id}?notice=already_filed"),
        // Without an account, the result at once through a signed link (issue 15 item 5).
        (Filed::New(id), false) => crate::web::status::link(&state.keys, id, jiff::Timestamp::now().as_second()),
        // Filed again "from the same address": but nobody has proved the address is theirs, so
        // anyone who knows someone's email and payment would get that person's case. The first
        // filing's email holds the way back; this page only says so.
        (Filed::Existing(_), false) => "/claims/sent?already=1".to_owned(),
    };
    let mut response = Redirect::to(&to).into_response();
    if matches!(filed, Filed::New(_)) && user.is_none() {
        // The next page names the address the link went to; it travels in the visitor's own
        // browser for a few minutes, never in the URL (logs, history, referrers).
        let cookie = cookie::Cookie::build((SENT_TO_COOKIE, email.as_str().to_owned()))
            .path("/claims")
            .max_age(cookie::time::Duration::minutes(10))
            .http_only(true)
            .secure(state.config.secure_cookies())
            .same_site(cookie::SameSite::Lax)
            .build();
        response.headers_mut().append(header::SET_COOKIE, cookie.to_string().parse()?);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct SentQuery {
    #[serde(default)]
    already: Option<String>,
}

/// After filing without an account: the case waits for the emailed link.
pub async fn show_sent(
    ctx: PageContext,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<SentQuery>,
) -> MessagePage {
    let page = match q.already {
        Some(_) => MessagePage::new(ctx, "claims.sent.title", "claims.sent.already"),
        None => MessagePage::new(ctx, "claims.sent.title", "claims.sent.body"),
    };
    // Only an address that still parses (and so passed the screen) is shown.
    match session::read_cookie(&headers, SENT_TO_COOKIE).and_then(|e| EmailAddress::parse(&e).ok()) {
        Some(email) => page.with_detail(email.as_str()),
        None => page,
    }
}

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "claims/confirm.html")]
pub struct ConfirmPage {
    ctx: PageContext,
    token: String,
    email: String,
}

/// Shows a button: link scanners in mail systems follow links, only a person presses buttons.
pub async fn show_confirm(
    State(state): State<AppState>,
    ctx: PageContext,
    axum::extract::Query(q): axum::extract::Query<TokenParam>,
) -> Result<Response, AppError> {
    match email_tokens::peek(&state.db, &token::digest(&q.token), CLAIM_ACCESS_PURPOSE).await? {
        Some(row) => Ok(ConfirmPage { ctx, token: q.token, email: row.email }.into_response()),
        None => Ok(MessagePage::link_invalid(ctx).into_response()),
    }
}

/// Proves the address: links the case to the customer account of that address (made now if
/// there is none), signs the person in and opens the case.
pub async fn confirm(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(q): Form<TokenParam>,
) -> Result<Response, AppError> {
    let mut tx = state.db.begin().await?;
    let Some(row) = email_tokens::consume(&mut tx, &token::digest(&q.token), CLAIM_ACCESS_PURPOSE).await? else {
        return Ok(MessagePage::link_invalid(ctx).into_response());
    };
    let case_id = row.subject_id.ok_or_else(|| anyhow::anyhow!("claim link without a case"))?;
    let email = EmailAddress::parse(&row.email).map_err(|_| anyhow::anyhow!("stored email does not parse"))?;
    let user_id = match users::find_by_email(&state.db, email.normalized()).await? {
        Some(user) if user.role == Role::Customer.as_str() && user.disabled_at.is_none() => {
            users::mark_verified(&mut tx, user.id).await?;
            user.id
        }
        // Staff addresses never get customer cases attached by a link.
        Some(_) => return Err(AppError::forbidden()),
        None => {
            // No password yet: "forgot password" sets one when they want to sign in again.
            let unusable = password::hash(token::generate()).await?;
            let new_user = NewUser {
                email: email.as_str(),
                email_norm: email.normalized(),
                password_hash: &unusable,
                role: Role::Customer.as_str(),
                lang: Some(ctx.lang.code()),
                verified: true,
            };
            match users::create(&mut tx, &new_user).await {
                Ok(id) => id,
                Err(CreateUserError::EmailTaken) => return Err(AppError::forbidden()),
                Err(CreateUserError::Db(e)) => return Err(e.into()),
            }
        }
    };
    crate::db::cases::confirm_contact(&mut tx, case_id, user_id).await?;
    tx.commit().await?;
    let cookie = session::sign_in(&state, user_id).await?;
    let mut response = Redirect::to(&format!("/cases/{case_id}")).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}
