#![recursion_limit = "256"]
//! Precedent's user interface: Leptos pages rendered on the server and hydrated in the browser,
//! the server functions they call, and the types both sides share.
pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod error;
pub mod labs;
pub mod report;
pub mod review;
pub mod similar;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod suggest;
#[cfg(feature = "hydrate")]
mod upload;

/// The types the pages share with the server functions and the JSON API.
pub use precedent_types::dto;

use crate::auth::{Login, LoginCode, Logout, Signup};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Login state shared by every page: the actions, and the user they refresh.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub login: ServerAction<Login>,
    /// The code step of a two-factor login.
    pub code: ServerAction<LoginCode>,
    pub logout: ServerAction<Logout>,
    pub signup: ServerAction<Signup>,
    pub user: Resource<Result<Option<dto::UserView>, error::AppError>>,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let login = ServerAction::<Login>::new();
    let code = ServerAction::<LoginCode>::new();
    let logout = ServerAction::<Logout>::new();
    let signup = ServerAction::<Signup>::new();
    let user = Resource::new(move || (login.version().get(), code.version().get(), signup.version().get(), logout.version().get()), |_| auth::current_user());
    provide_context(AuthContext { login, code, logout, signup, user });
    // Tests (and people) can tell when the page has become interactive.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/precedent.css" />
        <Title text="Precedent" />
        <Router>
            <DemoBanner />
            <Header />
            <main id="main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/login") view=auth::LoginPage />
                    <Route path=path!("/login/code") view=auth::LoginCodePage />
                    <Route path=path!("/account") view=account::AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=auth::SignupPage />
                    <Route path=path!("/cases") view=cases::CaseListPage ssr=SsrMode::Async />
                    <Route path=path!("/cases/new") view=cases::NewCasePage />
                    <Route path=path!("/cases/:id") view=cases::CasePage ssr=SsrMode::Async />
                    <Route path=path!("/cases/:id/explain/:hit") view=similar::ExplainPage ssr=SsrMode::Async />
                    <Route path=path!("/compare") view=cases::ComparePage ssr=SsrMode::Async />
                    <Route path=path!("/search") view=similar::SearchPage ssr=SsrMode::Async />
                    <Route path=path!("/review") view=review::ReviewQueuePage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=admin::UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/index") view=admin::IndexPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/import") view=admin::ImportPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=audit::AuditPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <header class="topbar">
            <a href="/" class="brand">
                "Precedent"
            </a>
            <nav>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match auth.user.await {
                            Ok(Some(u)) => {
                                view! {
                                    <A href="/cases">"Cases"</A>
                                    <A href="/search">"Search"</A>
                                    {(u.role == precedent_types::Role::Doctor).then(|| view! { <A href="/review">"Review queue"</A> })}
                                    {(u.role == precedent_types::Role::Admin)
                                        .then(|| {
                                            view! {
                                                <A href="/admin/users">"Accounts"</A>
                                                <A href="/admin/index">"Index"</A>
                                                <A href="/admin/import">"Import"</A>
                                                <A href="/admin/audit">"Audit"</A>
                                            }
                                        })}
                                    <A href="/account" attr:class="who" attr:id="whoami">
                                        {format!("{} ({})", u.email, u.role)}
                                    </A>
                                    <ActionForm action=auth.logout attr:class="inline">
                                        <button type="submit" class="link" id="logout">
                                            "Log out"
                                        </button>
                                    </ActionForm>
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <A href="/login">"Log in"</A>
                                    <A href="/signup">"Sign up"</A>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}

/// A strip on every page while demo accounts exist: whoever can read the README can log in.
#[component]
fn DemoBanner() -> impl IntoView {
    let demo = Resource::new(|| (), |_| auth::demo_mode());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(demo.await, Ok(true))
                    .then(|| {
                        view! {
                            <div class="demo-banner" role="note" id="demo-banner">
                                "Demo server: demo accounts exist here. Do not enter real patient data."
                            </div>
                        }
                    })
            })}
        </Suspense>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Find similar past cases"</h1>
            <p>
                "Precedent lets clinicians compare a case with past cases by its scans, its clinical text and its lab results, and lets patients follow their own cases."
            </p>
            <p>
                <A href="/cases" attr:class="button primary">
                    "Open cases"
                </A>
                " "
                <A href="/login" attr:class="button">
                    "Log in"
                </A>
            </p>
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="notice">
            <h1>"Page not found"</h1>
            <A href="/">"Home"</A>
        </section>
    }
}
