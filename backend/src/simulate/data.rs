//! Seeded, realistic Brazilian data: accented names, valid CPFs, mixed-case e-mails, phones, products,
//! payment methods (pix, boleto, card with installments) and amounts in cents. Everything comes from
//! one seeded generator, so the same seed gives the same people and purchases.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

const FIRST_NAMES: &[&str] = &[
    "João",
    "Maria",
    "José",
    "Ana",
    "Luíza",
    "Vinícius",
    "Sílvia",
    "Gabriela",
    "Heitor",
    "Larissa",
    "Carla",
    "Antônio",
    "Beatriz",
    "Cecília",
    "Otávio",
    "Lúcia",
    "Márcio",
    "Mônica",
    "Thaís",
    "Caio",
    "Letícia",
    "Inês",
    "Íris",
    "Júlio",
    "Fábio",
    "Débora",
    "Rafael",
    "Patrícia",
    "Sérgio",
    "Tânia",
    "André",
    "Vitória",
    "Conceição",
    "Raimundo",
    "Aline",
    "Gustavo",
    "Natália",
    "Henrique",
    "Flávia",
    "Emanuel",
];

const LAST_NAMES: &[&str] = &[
    "Silva",
    "Souza",
    "Oliveira",
    "Conceição",
    "Araújo",
    "Brandão",
    "Gonçalves",
    "Lima",
    "Melo",
    "Magalhães",
    "Assunção",
    "Simões",
    "Pereira",
    "Carvalho",
    "Ribeiro",
    "Guimarães",
    "Falcão",
    "Monteiro",
    "Nóbrega",
    "Sá",
    "Gusmão",
    "Damião",
    "Romão",
    "Lobão",
    "Fonseca",
    "Aragão",
    "Estêvão",
    "Nascimento",
    "Castro",
    "Peixoto",
];

const PARTICLES: &[&str] = &["da", "de", "dos", "das"];

const DOMAINS: &[&str] = &[
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "yahoo.com.br",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "empresa.net",
    "escola.edu.br",
];

/// Area codes (DDD) of Brazilian capitals and large cities.
const AREA_CODES: &[u32] = &[11, 21, 31, 41, 47, 48, 51, 61, 62, 71, 81, 85, 91, 92, 19, 27];

/// A buyer, as the platforms send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Full name, accented ("Sílvia da Conceição Araújo").
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    /// As typed at checkout: mixed case ("Silvia.Araujo22@yahoo.com.br"). Portaria compares it lower-cased.
    pub email: String,
    /// Eleven digits with valid check digits.
    pub cpf: String,
    /// Area code + nine-digit mobile number, digits only ("11987654321").
    pub phone: String,
}

impl Person {
    /// The e-mail as Portaria keys the customer (lower-cased).
    pub fn key(&self) -> String {
        self.email.trim().to_lowercase()
    }

    /// The CPF written the usual way: `123.456.789-09`.
    pub fn cpf_formatted(&self) -> String {
        let d = &self.cpf;
        format!("{}.{}.{}-{}", &d[0..3], &d[3..6], &d[6..9], &d[9..11])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Pix,
    Boleto,
    Card,
}

/// A course for sale. The same catalog on every source (each source with its own product ids), so
/// that a run creates a handful of courses, not one per customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// Stable, source-neutral key; the source builders derive their ids from it.
    pub key: &'static str,
    pub name: &'static str,
    pub price_cents: i64,
    /// Sold as a monthly subscription.
    pub subscription: bool,
    /// A stable number per product (Hotmart's `id`, Monetizze's `produto.codigo`, ...).
    pub number: u32,
}

pub const PRODUCTS: &[Product] = &[
    Product {
        key: "confeitaria-profissional",
        name: "Confeitaria Profissional do Zero",
        price_cents: 29_700,
        subscription: false,
        number: 4_100_123,
    },
    Product {
        key: "ingles-fluente",
        name: "Método Inglês Fluente em 6 Meses",
        price_cents: 49_700,
        subscription: false,
        number: 4_100_245,
    },
    Product {
        key: "excel-avancado",
        name: "Excel do Básico ao Avançado",
        price_cents: 19_700,
        subscription: false,
        number: 4_100_377,
    },
    Product {
        key: "fotografia-celular",
        name: "Fotografia com Celular: Composição e Edição",
        price_cents: 14_790,
        subscription: false,
        number: 4_100_419,
    },
    Product {
        key: "clube-receitas",
        name: "Clube de Receitas Sem Glúten (mensal)",
        price_cents: 4_990,
        subscription: true,
        number: 4_100_456,
    },
];

/// One purchase: what, how it is paid, for how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub product: Product,
    pub method: Method,
    /// 1 for pix and boleto; 1 to 12 for a card.
    pub installments: u32,
    /// Integer cents (the card price grows a little with installments, as checkouts charge interest).
    pub amount_cents: i64,
    /// Random material the source builders turn into their own ids (transaction, order id, invoice).
    pub ids: Ids,
}

/// Random identifiers for one order, in every shape the platforms use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// A version-4-looking UUID.
    pub uuid: String,
    /// Fourteen digits.
    pub digits: String,
    /// Sixteen lower-case hex characters.
    pub hex: String,
}

/// The seeded generator behind every plan.
pub struct Faker {
    rng: StdRng,
    emails: HashSet<String>,
}

impl Faker {
    pub fn new(seed: u64) -> Faker {
        Faker { rng: StdRng::seed_from_u64(seed), emails: HashSet::new() }
    }

    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// A number in `range`.
    pub fn between(&mut self, low: i64, high_inclusive: i64) -> i64 {
        self.rng.random_range(low..=high_inclusive)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.rng).expect("non-empty list")
    }

    /// A new person. The e-mail is unique within this generator (drawn again on a collision).
    pub fn person(&mut self) -> Person {
        loop {
            let person = self.draw_person();
            if self.emails.insert(person.key()) {
                return person;
            }
        }
    }

    /// A new person with the given e-mail (the Simulador screen's customer).
    pub fn person_with_email(&mut self, email: &str) -> Person {
        Person { email: email.trim().to_string(), ..self.draw_person() }
    }

    fn draw_person(&mut self) -> Person {
        let first = *self.pick(FIRST_NAMES);
        let last = *self.pick(LAST_NAMES);
        let middle = if self.chance(0.35) {
            let particle = *self.pick(PARTICLES);
            let middle = *self.pick(LAST_NAMES);
            Some(format!("{particle} {middle}"))
        } else {
            None
        };
        let name = match &middle {
            Some(middle) => format!("{first} {middle} {last}"),
            None => format!("{first} {last}"),
        };
        let email = self.email(first, last);
        Person {
            name,
            first_name: first.to_string(),
            last_name: last.to_string(),
            email,
            cpf: self.cpf(),
            phone: self.phone(),
        }
    }

    /// `first.last<n>@domain`, accents stripped, in one of the cases people type.
    fn email(&mut self, first: &str, last: &str) -> String {
        let first = ascii(first);
        let last = ascii(last);
        let number = self.between(1, 9999);
        let domain = *self.pick(DOMAINS);
        let local = match self.between(0, 9) {
            0..=3 => format!("{}.{}{number}", capitalize(&first), last.to_lowercase()),
            4..=6 => format!("{}.{}{number}", capitalize(&first), capitalize(&last)),
            7 | 8 => format!("{}.{}{number}", first.to_lowercase(), last.to_lowercase()),
            _ => format!("{}{}{number}", first.to_uppercase(), last.to_uppercase()),
        };
        format!("{local}@{domain}")
    }

    /// Eleven digits with valid check digits (never all the same digit).
    pub fn cpf(&mut self) -> String {
        loop {
            let base: Vec<u32> = (0..9).map(|_| self.rng.random_range(0..10)).collect();
            if base.iter().all(|d| *d == base[0]) {
                continue;
            }
            return cpf_with_check_digits(&base);
        }
    }

    fn phone(&mut self) -> String {
        let area = *self.pick(AREA_CODES);
        let number = self.between(910_000_000, 999_999_999);
        format!("{area}{number}")
    }

    /// A purchase of `product` by pix, boleto or card (card: 1 to 12 installments).
    pub fn purchase(&mut self, product: Product) -> Purchase {
        let method = match self.between(0, 9) {
            0..=3 => Method::Card,
            4..=7 => Method::Pix,
            _ => Method::Boleto,
        };
        self.purchase_by(product, method)
    }

    pub fn purchase_by(&mut self, product: Product, method: Method) -> Purchase {
        let installments = match method {
            Method::Card if !product.subscription => *self.pick(&[1, 1, 2, 3, 6, 10, 12]),
            _ => 1,
        };
        // 1.99% a month for card installments beyond the first, rounded to the cent.
        let interest = if installments > 1 { 10_000 + 199 * (i64::from(installments) - 1) } else { 10_000 };
        let amount_cents = (product.price_cents * interest + 5_000) / 10_000;
        Purchase { product, method, installments, amount_cents, ids: self.ids() }
    }

    /// A product: a one-off course (`subscription = false`) or the subscription.
    pub fn product(&mut self, subscription: bool) -> Product {
        let candidates: Vec<Product> = PRODUCTS.iter().copied().filter(|p| p.subscription == subscription).collect();
        *self.pick(&candidates)
    }

    pub fn ids(&mut self) -> Ids {
        Ids { uuid: self.uuid(), digits: self.digits(14), hex: self.hex(16) }
    }

    pub fn uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        let h = hex::encode(bytes);
        format!(
            "{}-{}-4{}-{}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            ["8", "9", "a", "b"][usize::from(bytes[8] % 4)],
            &h[17..20],
            &h[20..32]
        )
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|i| char::from(b'0' + self.rng.random_range(if i == 0 { 1 } else { 0 }..10u8))).collect()
    }

    pub fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.rng.random_range(0..16), 16).expect("hex digit")).collect()
    }

    /// Alphanumeric (Kiwify's `order_ref`, card brands' last digits and such).
    pub fn alphanumeric(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
        (0..n).map(|_| char::from(*self.pick(CHARS))).collect()
    }
}

/// The CPF of nine base digits, with its two check digits (module 11).
pub fn cpf_with_check_digits(base: &[u32]) -> String {
    let check = |digits: &[u32]| {
        let weight = digits.len() as u32 + 1;
        let sum: u32 = digits.iter().enumerate().map(|(i, d)| d * (weight - i as u32)).sum();
        let rest = (sum * 10) % 11;
        if rest == 10 {
            0
        } else {
            rest
        }
    };
    let mut digits = base.to_vec();
    digits.push(check(&digits));
    digits.push(check(&digits));
    digits.iter().map(|d| char::from_digit(*d, 10).expect("digit")).collect()
}

/// Whether an eleven-digit CPF has valid check digits.
pub fn cpf_is_valid(cpf: &str) -> bool {
    let digits: Vec<u32> = cpf.chars().filter_map(|c| c.to_digit(10)).collect();
    digits.len() == 11 && cpf.len() == 11 && cpf_with_check_digits(&digits[..9]) == cpf
}

/// Accents stripped (for e-mail local parts).
pub fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'Á' | 'À' | 'Â' | 'Ã' | 'Ä' => 'A',
            'é' | 'ê' | 'è' => 'e',
            'É' | 'Ê' | 'È' => 'E',
            'í' | 'î' => 'i',
            'Í' | 'Î' => 'I',
            'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
            'ú' | 'ü' => 'u',
            'Ú' | 'Ü' => 'U',
            'ç' => 'c',
            'Ç' => 'C',
            other => other,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn capitalize(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpfs_have_valid_check_digits() {
        // Known valid CPFs (generator test numbers).
        assert!(cpf_is_valid("11144477735"));
        assert!(cpf_is_valid("12345678909"));
        assert!(!cpf_is_valid("12345678900"));
        assert!(!cpf_is_valid("123.456.789-09"));
        let mut faker = Faker::new(7);
        for _ in 0..1000 {
            let cpf = faker.cpf();
            assert!(cpf_is_valid(&cpf), "{cpf}");
        }
    }

    #[test]
    fn people_are_brazilian_and_unique_by_e_mail() {
        let mut faker = Faker::new(42);
        let people: Vec<Person> = (0..500).map(|_| faker.person()).collect();
        let keys: HashSet<String> = people.iter().map(Person::key).collect();
        assert_eq!(keys.len(), people.len());
        assert!(people.iter().any(|p| !p.name.is_ascii()), "accented names");
        assert!(people.iter().any(|p| p.email != p.key()), "mixed-case e-mails");
        for p in &people {
            assert!(p.email.is_ascii() && p.email.contains('@'), "{}", p.email);
            assert_eq!(p.phone.len(), 11, "{}", p.phone);
            assert_eq!(p.cpf_formatted().len(), 14);
        }
    }

    #[test]
    fn purchases_are_in_cents_with_installments_only_by_card() {
        let mut faker = Faker::new(3);
        let mut methods = HashSet::new();
        for _ in 0..300 {
            let product = faker.product(false);
            let p = faker.purchase(product);
            methods.insert(format!("{:?}", p.method));
            assert!(p.amount_cents >= product.price_cents);
            if p.method != Method::Card {
                assert_eq!(p.installments, 1);
                assert_eq!(p.amount_cents, product.price_cents);
            }
            assert!((1..=12).contains(&p.installments));
        }
        assert_eq!(methods.len(), 3);
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let draw = |seed| {
            let mut f = Faker::new(seed);
            (0..20).map(|_| (f.person(), f.purchase(PRODUCTS[0]))).collect::<Vec<_>>()
        };
        assert_eq!(draw(11), draw(11));
        assert_ne!(draw(11), draw(12));
    }

    #[test]
    fn uuids_look_like_version_4() {
        let mut f = Faker::new(1);
        let u = f.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
