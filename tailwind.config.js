/** @type {import('tailwindcss').Config} */
module.exports = {
  content: ["./views/**/*.templ", "./views/**/*.go", "./web/**/*.go", "./static/js/app.js"],
  theme: { extend: {} },
  plugins: [],
};
