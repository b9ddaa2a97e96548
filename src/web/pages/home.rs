//! The landing page: what Redress does and where to start.

use askama::Template;
use askama_web::WebTemplate;

use crate::web::PageContext;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    ctx: PageContext,
}

pub async fn show(ctx: PageContext) -> HomePage {
    HomePage { ctx }
}
