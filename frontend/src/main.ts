// Placeholder shell of the staff app; the screens come with the web-app issue.
const root = document.getElementById('app');
if (root) {
  const h1 = document.createElement('h1');
  h1.textContent = 'Portaria';
  const p = document.createElement('p');
  p.textContent = 'Webhooks de pagamento entram, acesso aos cursos sai.';
  root.replaceChildren(h1, p);
}
