//! A page that says one thing: "check your email", "this link has expired", …

use askama::Template;
use askama_web::WebTemplate;

use crate::web::PageContext;

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
pub struct MessagePage {
    ctx: PageContext,
    title: &'static str,
    body: &'static str,
    detail: Option<String>,
}

impl MessagePage {
    pub fn new(ctx: PageContext, title_key: &str, body_key: &str) -> MessagePage {
        MessagePage { title: ctx.t(title_key), body: ctx.t(body_key), ctx, detail: None }
    }

    /// A value shown on its own line under the message (an email address, a reference).
    pub fn with_detail(mut self, detail: impl Into<String>) -> MessagePage {
        self.detail = Some(detail.into());
        self
    }

    pub fn link_invalid(ctx: PageContext) -> MessagePage {
        MessagePage::new(ctx, "account.link_invalid.title", "account.link_invalid.body")
    }
}
