//! Procedural macros for [bocata](https://docs.rs/bocata).
//!
//! Use them through the re-exports in `bocata` (`#[bocata::view]`); this crate is an
//! implementation detail.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::{Ident, ImplItem, ItemImpl, parse_macro_input, spanned::Spanned};

/// The view methods bocata dispatches to, with the `Methods` constant each one enables.
const VIEW_METHODS: [(&str, &str); 6] = [
    ("on_get", "GET"),
    ("on_post", "POST"),
    ("on_put", "PUT"),
    ("on_patch", "PATCH"),
    ("on_delete", "DELETE"),
    ("on_websocket", "WEBSOCKET"),
];

/// The names in [`VIEW_METHODS`], for error messages.
fn view_method_names() -> String {
    let names: Vec<&str> = VIEW_METHODS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

/// Other `View` methods a view may define in the same block.
const VIEW_ITEMS: [&str; 3] = ["body_limit", "name", "websocket_protocols"];

/// Turns an `impl` block of `on_get`, `on_post`, … methods into a `bocata::View`.
///
/// See `bocata::view` for the documentation.
#[proc_macro_attribute]
pub fn view(args: TokenStream, input: TokenStream) -> TokenStream {
    if !args.is_empty() {
        let args = proc_macro2::TokenStream::from(args);
        return syn::Error::new(args.span(), "#[bocata::view] takes no arguments")
            .to_compile_error()
            .into();
    }
    let item = parse_macro_input!(input as ItemImpl);
    let inherent = item.trait_.is_none().then(|| item.clone());
    match expand(item) {
        Ok(tokens) => tokens.into(),
        // Keep an inherent block as written, so the error is the only message shown.
        Err(e) => {
            let error = e.to_compile_error();
            quote!(#error #inherent).into()
        }
    }
}

fn expand(item: ItemImpl) -> syn::Result<proc_macro2::TokenStream> {
    if let Some((_, path, _)) = &item.trait_ {
        let is_view = path.segments.last().is_some_and(|s| s.ident == "View");
        if !is_view {
            return Err(syn::Error::new(
                path.span(),
                "#[bocata::view] goes on `impl MyView { … }` or `impl View for MyView { … }`",
            ));
        }
    }

    let mut view_items = Vec::new();
    let mut other_items = Vec::new();
    let mut methods = Vec::new();
    for impl_item in item.items {
        let ImplItem::Fn(func) = &impl_item else {
            other_items.push(impl_item);
            continue;
        };
        let name = func.sig.ident.to_string();
        if let Some((_, method)) = VIEW_METHODS.iter().find(|(n, _)| *n == name) {
            if func.sig.asyncness.is_none() {
                return Err(syn::Error::new(
                    func.sig.fn_token.span(),
                    format!("`{name}` must be an `async fn`"),
                ));
            }
            methods.push(Ident::new(method, Span::call_site()));
            view_items.push(impl_item);
        } else if VIEW_ITEMS.contains(&name.as_str()) {
            view_items.push(impl_item);
        } else if name == "on_head" || name == "on_options" {
            return Err(syn::Error::new(
                func.sig.ident.span(),
                format!(
                    "`{name}` is answered by bocata itself: HEAD runs `on_get` without sending \
                     the body, OPTIONS lists the allowed methods"
                ),
            ));
        } else if name.starts_with("on_") {
            return Err(syn::Error::new(
                func.sig.ident.span(),
                format!(
                    "unknown view method `{name}`; expected one of {}",
                    view_method_names()
                ),
            ));
        } else {
            other_items.push(impl_item);
        }
    }
    if methods.is_empty() {
        return Err(syn::Error::new(
            item.self_ty.span(),
            format!("a view needs at least one of {}", view_method_names()),
        ));
    }

    let attrs = &item.attrs;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let inherent = if other_items.is_empty() {
        quote!()
    } else {
        quote! {
            #(#attrs)*
            impl #impl_generics #self_ty #where_clause {
                #(#other_items)*
            }
        }
    };
    Ok(quote! {
        #inherent
        #(#attrs)*
        impl #impl_generics ::bocata::View for #self_ty #where_clause {
            fn methods(&self) -> ::bocata::Methods {
                ::bocata::Methods::EMPTY #(.with(::bocata::Methods::#methods))*
            }
            #(#view_items)*
        }
    })
}
